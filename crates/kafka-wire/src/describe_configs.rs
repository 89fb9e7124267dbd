//! DescribeConfigs (key 32), v0-v4.
//!
//! Request: `resources [resource_type, resource_name, configuration_keys (nullable: all)]`;
//! v1 adds `include_synonyms`, v3 `include_documentation`. v2 has the same fields as v1; v4
//! is the first flexible version.
//!
//! Response: `throttle_time_ms`, `results [error_code, error_message (nullable),
//! resource_type, resource_name, configs [name, value (nullable), read_only, is_default (v0
//! only), config_source (v1+), is_sensitive, synonyms (v1+) [name, value (nullable), source],
//! config_type (v3+), documentation (v3+, nullable)]]`. v1 replaces `is_default` with
//! `config_source`; in v0 `is_default` is written as `config_source == DEFAULT_CONFIG`, which
//! is how Kafka's client reads it back. From v2 the broker answers before throttling.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// Kafka's resource types (`ConfigResource.Type`), shared with IncrementalAlterConfigs.
pub mod resource_type {
    /// Unknown.
    pub const UNKNOWN: i8 = 0;
    /// A topic, named by its name.
    pub const TOPIC: i8 = 2;
    /// A broker, named by its id in decimal ("" for the cluster-wide default).
    pub const BROKER: i8 = 4;
    /// A broker's loggers.
    pub const BROKER_LOGGER: i8 = 8;
}

/// Where a configuration's value comes from (`config_source`, `synonyms.source`).
pub mod config_source {
    /// Unknown.
    pub const UNKNOWN: i8 = 0;
    /// Set on the topic.
    pub const DYNAMIC_TOPIC_CONFIG: i8 = 1;
    /// Set dynamically on this broker.
    pub const DYNAMIC_BROKER_CONFIG: i8 = 2;
    /// Set dynamically as every broker's default.
    pub const DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
    /// From the broker's configuration file.
    pub const STATIC_BROKER_CONFIG: i8 = 4;
    /// The built-in default.
    pub const DEFAULT_CONFIG: i8 = 5;
    /// A broker logger's level set dynamically.
    pub const DYNAMIC_BROKER_LOGGER_CONFIG: i8 = 6;
}

/// A configuration's data type (`config_type`, v3+).
pub mod config_type {
    /// Unknown.
    pub const UNKNOWN: i8 = 0;
    /// Boolean.
    pub const BOOLEAN: i8 = 1;
    /// String.
    pub const STRING: i8 = 2;
    /// 32-bit integer.
    pub const INT: i8 = 3;
    /// 16-bit integer.
    pub const SHORT: i8 = 4;
    /// 64-bit integer.
    pub const LONG: i8 = 5;
    /// Floating point.
    pub const DOUBLE: i8 = 6;
    /// Comma-separated list.
    pub const LIST: i8 = 7;
    /// Java class name.
    pub const CLASS: i8 = 8;
    /// Password (sensitive).
    pub const PASSWORD: i8 = 9;
}

/// The request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsRequest {
    /// The resources to describe.
    pub resources: Vec<DescribeConfigsResource>,
    /// v1+: whether to list each configuration's synonyms (false before v1).
    pub include_synonyms: bool,
    /// v3+: whether to include documentation (false before v3).
    pub include_documentation: bool,
}

/// One resource to describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsResource {
    /// Its type ([`resource_type`]).
    pub resource_type: i8,
    /// Its name.
    pub resource_name: String,
    /// The configurations to describe; `None` (null) for all of them.
    pub configuration_keys: Option<Vec<String>>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<DescribeConfigsRequest> {
    let resources = r.array("resources", |r| {
        let resource_type = r.i8("resource_type")?;
        let resource_name = r.string("resource_name")?;
        let configuration_keys =
            r.nullable_array("configuration_keys", |r| r.string("configuration_keys"))?;
        r.tagged_fields()?;
        Ok(DescribeConfigsResource {
            resource_type,
            resource_name,
            configuration_keys,
        })
    })?;
    let include_synonyms = version >= 1 && r.bool("include_synonyms")?;
    let include_documentation = version >= 3 && r.bool("include_documentation")?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(DescribeConfigsRequest {
        resources,
        include_synonyms,
        include_documentation,
    })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeConfigsResponse {
    /// How long the request was throttled.
    pub throttle_time_ms: i32,
    /// One result per resource.
    pub results: Vec<ResourceResult>,
}

/// The result for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceResult {
    /// NONE, or why the resource was not described.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// The resource's type ([`resource_type`]).
    pub resource_type: i8,
    /// Its name.
    pub resource_name: String,
    /// Its configurations.
    pub configs: Vec<ConfigEntry>,
}

/// One configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Its name.
    pub name: String,
    /// Its value, or null (sensitive configurations).
    pub value: Option<String>,
    /// Whether it is read-only.
    pub read_only: bool,
    /// Where the value comes from ([`config_source`]); v0 sends only whether it is
    /// DEFAULT_CONFIG.
    pub config_source: i8,
    /// Whether it is sensitive.
    pub is_sensitive: bool,
    /// v1+: the values it would have from other sources, by precedence.
    pub synonyms: Vec<Synonym>,
    /// v3+: its data type ([`config_type`]).
    pub config_type: i8,
    /// v3+: its documentation, or null.
    pub documentation: Option<String>,
}

/// A synonym of a configuration (v1+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synonym {
    /// The synonym's name.
    pub name: String,
    /// Its value, or null.
    pub value: Option<String>,
    /// Where it comes from ([`config_source`]).
    pub source: i8,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &DescribeConfigsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, res| {
        w.error_code(res.error_code);
        w.nullable_string(res.error_message.as_deref());
        w.i8(res.resource_type);
        w.string(&res.resource_name);
        w.array(&res.configs, |w, c| encode_config(w, version, c));
        w.tagged_fields();
    });
    w.tagged_fields();
}

/// One entry of `configs`.
fn encode_config(w: &mut Writer, version: i16, c: &ConfigEntry) {
    w.string(&c.name);
    w.nullable_string(c.value.as_deref());
    w.bool(c.read_only);
    if version >= 1 {
        w.i8(c.config_source);
    } else {
        w.bool(c.config_source == config_source::DEFAULT_CONFIG);
    }
    w.bool(c.is_sensitive);
    if version >= 1 {
        w.array(&c.synonyms, |w, s| {
            w.string(&s.name);
            w.nullable_string(s.value.as_deref());
            w.i8(s.source);
            w.tagged_fields();
        });
    }
    if version >= 3 {
        w.i8(c.config_type);
        w.nullable_string(c.documentation.as_deref());
    }
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api;
    use bytes::Bytes;

    /// The first flexible version.
    const FLEXIBLE: i16 = 4;

    fn decode_bytes(version: i16, body: &[u8]) -> Result<DescribeConfigsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), version >= FLEXIBLE);
        decode(&mut r, version)
    }

    fn encoded(version: i16, resp: &DescribeConfigsResponse) -> Vec<u8> {
        let mut w = Writer::new(version >= FLEXIBLE);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// Topic "orders", keys [retention.ms]; broker "1", all keys.
    fn classic_resources() -> Vec<u8> {
        [
            &[0, 0, 0, 2][..], // resources: 2
            &[2],              //   resource_type: TOPIC
            &[0, 6],           //   resource_name: length 6
            b"orders",         //     "orders"
            &[0, 0, 0, 1],     //   configuration_keys: 1
            &[0, 12],          //     length 12
            b"retention.ms",   //       "retention.ms"
            &[4],              //   resource_type: BROKER
            &[0, 1],           //   resource_name: length 1
            b"1",              //     "1"
            &[0xff; 4],        //   configuration_keys: null
        ]
        .concat()
    }

    fn check_resources(req: &DescribeConfigsRequest) {
        assert_eq!(
            req.resources,
            [
                DescribeConfigsResource {
                    resource_type: resource_type::TOPIC,
                    resource_name: "orders".into(),
                    configuration_keys: Some(vec!["retention.ms".into()]),
                },
                DescribeConfigsResource {
                    resource_type: resource_type::BROKER,
                    resource_name: "1".into(),
                    configuration_keys: None,
                },
            ]
        );
    }

    #[test]
    fn v0_request() {
        let req = decode_bytes(0, &classic_resources()).unwrap();
        check_resources(&req);
        assert!(!req.include_synonyms && !req.include_documentation);
    }

    #[test]
    fn v3_request() {
        let mut body = classic_resources();
        body.push(1); // include_synonyms: true
        body.push(0); // include_documentation: false
        let req = decode_bytes(3, &body).unwrap();
        check_resources(&req);
        assert!(req.include_synonyms && !req.include_documentation);
        // v1 has no include_documentation: the last byte is one too many.
        assert!(decode_bytes(1, &body).is_err());
    }

    #[test]
    fn v4_request() {
        let body = [
            &[2][..],  // resources: compact 1
            &[2],      //   resource_type: TOPIC
            &[7],      //   resource_name: compact length 6
            b"orders", //     "orders"
            &[0],      //   configuration_keys: null
            &[0],      //   tagged fields: none
            &[0],      // include_synonyms: false
            &[1],      // include_documentation: true
            &[0],      // tagged fields: none
        ]
        .concat();
        let req = decode_bytes(4, &body).unwrap();
        assert_eq!(req.resources.len(), 1);
        assert_eq!(req.resources[0].resource_name, "orders");
        assert_eq!(req.resources[0].configuration_keys, None);
        assert!(!req.include_synonyms && req.include_documentation);
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let mut body = classic_resources();
        body.extend([1, 1]);
        for len in 0..body.len() {
            assert!(decode_bytes(3, &body[..len]).is_err(), "{len} bytes");
        }
    }

    fn response() -> DescribeConfigsResponse {
        DescribeConfigsResponse {
            throttle_time_ms: 0,
            results: vec![ResourceResult {
                error_code: ErrorCode::NONE,
                error_message: None,
                resource_type: resource_type::TOPIC,
                resource_name: "orders".into(),
                configs: vec![ConfigEntry {
                    name: "retention.ms".into(),
                    value: Some("1000".into()),
                    read_only: false,
                    config_source: config_source::DEFAULT_CONFIG,
                    is_sensitive: false,
                    synonyms: vec![Synonym {
                        name: "log.retention.ms".into(),
                        value: None,
                        source: config_source::DEFAULT_CONFIG,
                    }],
                    config_type: config_type::LONG,
                    documentation: Some("doc".into()),
                }],
            }],
        }
    }

    /// The bytes every version has before the first configuration, classic encoding.
    fn classic_head() -> Vec<u8> {
        [
            &[0, 0, 0, 0][..], // throttle_time_ms: 0
            &[0, 0, 0, 1],     // results: 1
            &[0, 0],           //   error_code: NONE
            &[0xff, 0xff],     //   error_message: null
            &[2],              //   resource_type: TOPIC
            &[0, 6],           //   resource_name: length 6
            b"orders",         //     "orders"
            &[0, 0, 0, 1],     //   configs: 1
            &[0, 12],          //     name: length 12
            b"retention.ms",   //       "retention.ms"
            &[0, 4],           //     value: length 4
            b"1000",           //       "1000"
            &[0],              //     read_only: false
        ]
        .concat()
    }

    #[test]
    fn v0_response() {
        let mut expected = classic_head();
        expected.extend([
            1, // is_default: true (DEFAULT_CONFIG)
            0, // is_sensitive: false
        ]);
        assert_eq!(encoded(0, &response()), expected);
        let mut dynamic = response();
        dynamic.results[0].configs[0].config_source = config_source::DYNAMIC_TOPIC_CONFIG;
        let bytes = encoded(0, &dynamic);
        assert_eq!(bytes[bytes.len() - 2], 0); // is_default: false
    }

    #[test]
    fn v3_response() {
        let expected = [
            &classic_head()[..],
            &[5],                //     config_source: DEFAULT_CONFIG
            &[0],                //     is_sensitive: false
            &[0, 0, 0, 1],       //     synonyms: 1
            &[0, 16],            //       name: length 16
            b"log.retention.ms", //         "log.retention.ms"
            &[0xff, 0xff],       //       value: null
            &[5],                //       source: DEFAULT_CONFIG
            &[5],                //     config_type: LONG
            &[0, 3],             //     documentation: length 3
            b"doc",              //       "doc"
        ]
        .concat();
        assert_eq!(encoded(3, &response()), expected);
    }

    #[test]
    fn v4_response() {
        let expected = [
            &[0, 0, 0, 0][..],   // throttle_time_ms: 0
            &[2],                // results: compact 1
            &[0, 0],             //   error_code: NONE
            &[0],                //   error_message: null
            &[2],                //   resource_type: TOPIC
            &[7],                //   resource_name: compact length 6
            b"orders",           //     "orders"
            &[2],                //   configs: compact 1
            &[13],               //     name: compact length 12
            b"retention.ms",     //       "retention.ms"
            &[5],                //     value: compact length 4
            b"1000",             //       "1000"
            &[0],                //     read_only: false
            &[5],                //     config_source: DEFAULT_CONFIG
            &[0],                //     is_sensitive: false
            &[2],                //     synonyms: compact 1
            &[17],               //       name: compact length 16
            b"log.retention.ms", //         "log.retention.ms"
            &[0],                //       value: null
            &[5],                //       source: DEFAULT_CONFIG
            &[0],                //       tagged fields: none
            &[5],                //     config_type: LONG
            &[4],                //     documentation: compact length 3
            b"doc",              //       "doc"
            &[0],                //     tagged fields: none
            &[0],                //   tagged fields: none
            &[0],                // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(4, &response()), expected);
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::DESCRIBE_CONFIGS).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 4, FLEXIBLE));
    }
}
