//! DescribeConfigs: a topic's configurations as `topic_config` maps its stream's settings
//! (DYNAMIC_TOPIC_CONFIG when set for the stream, DEFAULT_CONFIG otherwise), filtered by
//! `configuration_keys`; this broker's (resource name "" or its node id) as a minimal
//! read-only list of the defaults new topics get. Other resource types are INVALID_REQUEST.

use std::sync::Arc;

use memstream_kafka_wire::describe_configs::{
    self, config_source, resource_type, ConfigEntry, DescribeConfigsRequest,
    DescribeConfigsResource, DescribeConfigsResponse, ResourceResult, Synonym,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, denied_message, Action, Conn, Pending, Reply};
use crate::errors::stream_code;
use crate::server::Context;
use crate::topic_config;

pub(super) fn handle(
    req: DescribeConfigsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let results = req
        .resources
        .into_iter()
        .map(|r| {
            // Kafka: DESCRIBE_CONFIGS on the topic, or on the cluster for a broker.
            let refused = match r.resource_type {
                resource_type::TOPIC => (!allowed(
                    ctx,
                    &conn.session,
                    Action::DescribeStreamConfigs(&r.resource_name),
                ))
                .then_some((ErrorCode::TOPIC_AUTHORIZATION_FAILED, "topic")),
                resource_type::BROKER => (!allowed(ctx, &conn.session, Action::DescribeCluster))
                    .then_some((ErrorCode::CLUSTER_AUTHORIZATION_FAILED, "broker")),
                _ => None,
            };
            match refused {
                Some((error_code, what)) => ResourceResult {
                    error_code,
                    error_message: Some(denied_message(what, &r.resource_name)),
                    resource_type: r.resource_type,
                    resource_name: r.resource_name,
                    configs: Vec::new(),
                },
                None => describe(ctx, r, req.include_synonyms, req.include_documentation),
            }
        })
        .collect();
    let resp = DescribeConfigsResponse {
        throttle_time_ms: 0,
        results,
    };
    let mut w = reply.writer();
    describe_configs::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}

/// One configuration entry, with its own synonym when synonyms were asked for.
struct Entry<'a> {
    name: &'a str,
    value: String,
    read_only: bool,
    source: i8,
    config_type: i8,
    documentation: &'a str,
}

fn entry(e: Entry<'_>, synonyms: bool, documentation: bool) -> ConfigEntry {
    ConfigEntry {
        name: e.name.to_owned(),
        synonyms: if synonyms {
            vec![Synonym {
                name: e.name.to_owned(),
                value: Some(e.value.clone()),
                source: e.source,
            }]
        } else {
            Vec::new()
        },
        value: Some(e.value),
        read_only: e.read_only,
        config_source: e.source,
        is_sensitive: false,
        config_type: e.config_type,
        documentation: documentation.then(|| e.documentation.to_owned()),
    }
}

fn describe(
    ctx: &Context,
    resource: DescribeConfigsResource,
    synonyms: bool,
    documentation: bool,
) -> ResourceResult {
    let wanted = |name: &str| {
        resource
            .configuration_keys
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|k| k == name))
    };
    let configs: Result<Vec<ConfigEntry>, (ErrorCode, String)> = match resource.resource_type {
        resource_type::TOPIC => match ctx.engine.streams.get(&resource.resource_name) {
            Ok(stream) => Ok(topic_config::describe(&stream.meta())
                .into_iter()
                .filter(|d| wanted(d.config.name()))
                .map(|d| {
                    let e = Entry {
                        name: d.config.name(),
                        value: d.value,
                        read_only: d.config.read_only(),
                        source: d.source,
                        config_type: d.config.config_type(),
                        documentation: d.config.documentation(),
                    };
                    entry(e, synonyms, documentation)
                })
                .collect()),
            Err(e) => Err((stream_code(&e), e.to_string())),
        },
        resource_type::BROKER => {
            let name = &resource.resource_name;
            if name.is_empty() || *name == ctx.node_id.to_string() {
                let kafka = ctx.settings.kafka();
                let streams = ctx.settings.streams();
                Ok(topic_config::describe_broker(&kafka, &streams)
                    .into_iter()
                    .filter(|c| wanted(c.name))
                    .map(|c| {
                        let e = Entry {
                            name: c.name,
                            value: c.value,
                            read_only: true,
                            source: config_source::STATIC_BROKER_CONFIG,
                            config_type: c.config_type,
                            documentation: c.documentation,
                        };
                        entry(e, synonyms, documentation)
                    })
                    .collect())
            } else {
                Err((
                    ErrorCode::INVALID_REQUEST,
                    format!("this broker is node {}, not `{name}`", ctx.node_id),
                ))
            }
        }
        other => Err((
            ErrorCode::INVALID_REQUEST,
            format!("resource type {other} is not supported (topics: 2, brokers: 4)"),
        )),
    };
    let (error_code, error_message, configs) = match configs {
        Ok(configs) => (ErrorCode::NONE, None, configs),
        Err((code, message)) => (code, Some(message), Vec::new()),
    };
    ResourceResult {
        error_code,
        error_message,
        resource_type: resource.resource_type,
        resource_name: resource.resource_name,
        configs,
    }
}
