//! IncrementalAlterConfigs (key 44), v0-v1.
//!
//! Request: `resources [resource_type, resource_name, configs [name, config_operation,
//! value (nullable)]]`, `validate_only`. Response: `throttle_time_ms`, `responses
//! [error_code, error_message (nullable), resource_type, resource_name]`. v1 has the same
//! fields as v0 and is the first flexible version. Resource types are those of
//! DescribeConfigs ([`crate::describe_configs::resource_type`]).

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// What to do with one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigOperation {
    /// 0: set the value.
    Set,
    /// 1: remove the setting (back to the default).
    Delete,
    /// 2: add the value to a list configuration.
    Append,
    /// 3: remove the value from a list configuration.
    Subtract,
    /// Any other code, kept as read (the broker answers INVALID_REQUEST for the resource).
    Unknown(i8),
}

impl ConfigOperation {
    /// The operation of a wire code.
    pub fn from_code(code: i8) -> ConfigOperation {
        match code {
            0 => ConfigOperation::Set,
            1 => ConfigOperation::Delete,
            2 => ConfigOperation::Append,
            3 => ConfigOperation::Subtract,
            other => ConfigOperation::Unknown(other),
        }
    }

    /// Its wire code.
    pub fn code(self) -> i8 {
        match self {
            ConfigOperation::Set => 0,
            ConfigOperation::Delete => 1,
            ConfigOperation::Append => 2,
            ConfigOperation::Subtract => 3,
            ConfigOperation::Unknown(code) => code,
        }
    }
}

/// The request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncrementalAlterConfigsRequest {
    /// The resources to alter.
    pub resources: Vec<AlterConfigsResource>,
    /// Check the request but change nothing.
    pub validate_only: bool,
}

/// One resource to alter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterConfigsResource {
    /// Its type ([`crate::describe_configs::resource_type`]).
    pub resource_type: i8,
    /// Its name.
    pub resource_name: String,
    /// The changes.
    pub configs: Vec<AlterableConfig>,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterableConfig {
    /// The configuration's name.
    pub name: String,
    /// What to do.
    pub config_operation: ConfigOperation,
    /// The value (null for Delete).
    pub value: Option<String>,
}

/// Decodes the body of `version` (all versions have the same fields).
pub fn decode(r: &mut Reader, _version: i16) -> Result<IncrementalAlterConfigsRequest> {
    let resources = r.array("resources", |r| {
        let resource_type = r.i8("resource_type")?;
        let resource_name = r.string("resource_name")?;
        let configs = r.array("configs", |r| {
            let name = r.string("configs.name")?;
            let config_operation = ConfigOperation::from_code(r.i8("config_operation")?);
            let value = r.nullable_string("configs.value")?;
            r.tagged_fields()?;
            Ok(AlterableConfig {
                name,
                config_operation,
                value,
            })
        })?;
        r.tagged_fields()?;
        Ok(AlterConfigsResource {
            resource_type,
            resource_name,
            configs,
        })
    })?;
    let validate_only = r.bool("validate_only")?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(IncrementalAlterConfigsRequest {
        resources,
        validate_only,
    })
}

/// The response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncrementalAlterConfigsResponse {
    /// How long the request was throttled.
    pub throttle_time_ms: i32,
    /// One result per resource.
    pub responses: Vec<ResourceResult>,
}

/// The result for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceResult {
    /// NONE, or why the resource was not altered.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// The resource's type.
    pub resource_type: i8,
    /// Its name.
    pub resource_name: String,
}

/// Encodes the response in `version` (all versions have the same fields).
pub fn encode(w: &mut Writer, _version: i16, resp: &IncrementalAlterConfigsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.responses, |w, res| {
        w.error_code(res.error_code);
        w.nullable_string(res.error_message.as_deref());
        w.i8(res.resource_type);
        w.string(&res.resource_name);
        w.tagged_fields();
    });
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api;
    use crate::describe_configs::resource_type;
    use bytes::Bytes;

    /// The first flexible version.
    const FLEXIBLE: i16 = 1;

    fn decode_bytes(version: i16, body: &[u8]) -> Result<IncrementalAlterConfigsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), version >= FLEXIBLE);
        decode(&mut r, version)
    }

    fn encoded(version: i16, resp: &IncrementalAlterConfigsResponse) -> Vec<u8> {
        let mut w = Writer::new(version >= FLEXIBLE);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn expected_request() -> IncrementalAlterConfigsRequest {
        IncrementalAlterConfigsRequest {
            resources: vec![AlterConfigsResource {
                resource_type: resource_type::TOPIC,
                resource_name: "orders".into(),
                configs: vec![
                    AlterableConfig {
                        name: "retention.ms".into(),
                        config_operation: ConfigOperation::Set,
                        value: Some("1000".into()),
                    },
                    AlterableConfig {
                        name: "x".into(),
                        config_operation: ConfigOperation::Delete,
                        value: None,
                    },
                ],
            }],
            validate_only: false,
        }
    }

    fn v0_request() -> Vec<u8> {
        [
            &[0, 0, 0, 1][..], // resources: 1
            &[2],              //   resource_type: TOPIC
            &[0, 6],           //   resource_name: length 6
            b"orders",         //     "orders"
            &[0, 0, 0, 2],     //   configs: 2
            &[0, 12],          //     name: length 12
            b"retention.ms",   //       "retention.ms"
            &[0],              //     config_operation: SET
            &[0, 4],           //     value: length 4
            b"1000",           //       "1000"
            &[0, 1],           //     name: length 1
            b"x",              //       "x"
            &[1],              //     config_operation: DELETE
            &[0xff, 0xff],     //     value: null
            &[0],              // validate_only: false
        ]
        .concat()
    }

    #[test]
    fn v0_request_decodes() {
        assert_eq!(decode_bytes(0, &v0_request()).unwrap(), expected_request());
    }

    #[test]
    fn v1_request_decodes() {
        let body = [
            &[2][..],        // resources: compact 1
            &[2],            //   resource_type: TOPIC
            &[7],            //   resource_name: compact length 6
            b"orders",       //     "orders"
            &[3],            //   configs: compact 2
            &[13],           //     name: compact length 12
            b"retention.ms", //       "retention.ms"
            &[0],            //     config_operation: SET
            &[5],            //     value: compact length 4
            b"1000",         //       "1000"
            &[0],            //     tagged fields: none
            &[2],            //     name: compact length 1
            b"x",            //       "x"
            &[1],            //     config_operation: DELETE
            &[0],            //     value: null
            &[0],            //     tagged fields: none
            &[0],            //   tagged fields: none
            &[0],            // validate_only: false
            &[0],            // tagged fields: none
        ]
        .concat();
        assert_eq!(decode_bytes(1, &body).unwrap(), expected_request());
    }

    #[test]
    fn operations_round_trip_and_unknown_ones_are_kept() {
        for code in -1..=4 {
            assert_eq!(ConfigOperation::from_code(code).code(), code);
        }
        assert_eq!(ConfigOperation::from_code(3), ConfigOperation::Subtract);
        assert_eq!(ConfigOperation::from_code(9), ConfigOperation::Unknown(9));
    }

    #[test]
    fn a_truncated_request_is_an_error() {
        let body = v0_request();
        for len in 0..body.len() {
            assert!(decode_bytes(0, &body[..len]).is_err(), "{len} bytes");
        }
    }

    fn response() -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse {
            throttle_time_ms: 0,
            responses: vec![
                ResourceResult {
                    error_code: ErrorCode::NONE,
                    error_message: None,
                    resource_type: resource_type::TOPIC,
                    resource_name: "orders".into(),
                },
                ResourceResult {
                    error_code: ErrorCode::INVALID_CONFIG,
                    error_message: Some("no".into()),
                    resource_type: resource_type::BROKER,
                    resource_name: "1".into(),
                },
            ],
        }
    }

    #[test]
    fn v0_response() {
        let expected = [
            &[0, 0, 0, 0][..], // throttle_time_ms: 0
            &[0, 0, 0, 2],     // responses: 2
            &[0, 0],           //   error_code: NONE
            &[0xff, 0xff],     //   error_message: null
            &[2],              //   resource_type: TOPIC
            &[0, 6],           //   resource_name: length 6
            b"orders",         //     "orders"
            &[0, 40],          //   error_code: INVALID_CONFIG
            &[0, 2],           //   error_message: length 2
            b"no",             //     "no"
            &[4],              //   resource_type: BROKER
            &[0, 1],           //   resource_name: length 1
            b"1",              //     "1"
        ]
        .concat();
        assert_eq!(encoded(0, &response()), expected);
    }

    #[test]
    fn v1_response() {
        let expected = [
            &[0, 0, 0, 0][..], // throttle_time_ms: 0
            &[3],              // responses: compact 2
            &[0, 0],           //   error_code: NONE
            &[0],              //   error_message: null
            &[2],              //   resource_type: TOPIC
            &[7],              //   resource_name: compact length 6
            b"orders",         //     "orders"
            &[0],              //   tagged fields: none
            &[0, 40],          //   error_code: INVALID_CONFIG
            &[3],              //   error_message: compact length 2
            b"no",             //     "no"
            &[4],              //   resource_type: BROKER
            &[2],              //   resource_name: compact length 1
            b"1",              //     "1"
            &[0],              //   tagged fields: none
            &[0],              // tagged fields: none
        ]
        .concat();
        assert_eq!(encoded(1, &response()), expected);
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(api::key::INCREMENTAL_ALTER_CONFIGS).unwrap();
        assert_eq!((spec.min, spec.max, spec.flexible_from), (0, 1, FLEXIBLE));
    }
}
