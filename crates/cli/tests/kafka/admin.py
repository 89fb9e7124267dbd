"""Kafka topic administration against a real `memstream serve`, through confluent-kafka's
AdminClient (librdkafka): CreateTopics, DescribeConfigs, IncrementalAlterConfigs,
CreatePartitions, DescribeCluster and DeleteTopics, with their error cases.

Usage: admin.py BOOTSTRAP KEPT_TOPIC
Leaves KEPT_TOPIC with 6 partitions for the caller to look at (kcat -L). Exits non-zero with
a traceback at the first check that fails; prints one line per passed check.
"""

import sys

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

TIMEOUT = 30
passed = 0


def ok(what):
    global passed
    passed += 1
    print("ok:", what, flush=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    ok(what)


def fails_with(future, code, what):
    """The future fails with Kafka error `code`; returns the error."""
    try:
        future.result(TIMEOUT)
    except KafkaException as e:
        err = e.args[0]
        if err.code() != code:
            raise AssertionError(f"{what}: expected {KafkaError(code).name()}, got {err}")
        ok(f"{what} -> {err.name()} ({err.str()})")
        return err
    raise AssertionError(f"{what}: expected {KafkaError(code).name()}, but it succeeded")


def topic_configs(admin, topic):
    res = ConfigResource(ResourceType.TOPIC, topic)
    return admin.describe_configs([res])[res].result(TIMEOUT)


def partitions(admin, topic):
    md = admin.list_topics(topic=topic, timeout=TIMEOUT)
    t = md.topics[topic]
    if t.error is not None:
        raise AssertionError(f"metadata of {topic}: {t.error}")
    return len(t.partitions)


def main():
    bootstrap, kept = sys.argv[1], sys.argv[2]
    admin = AdminClient({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})

    # DescribeCluster: one node, the controller.
    cluster = admin.describe_cluster(request_timeout=TIMEOUT).result(TIMEOUT)
    check(len(cluster.nodes) == 1, f"describe_cluster: one node ({cluster.nodes})")
    node = cluster.nodes[0]
    check(cluster.controller.id == node.id, "describe_cluster: this node is the controller")
    check(f"{node.host}:{node.port}" == bootstrap, f"describe_cluster: advertised {node.host}:{node.port}")
    check(bool(cluster.cluster_id), f"describe_cluster: cluster id {cluster.cluster_id}")

    # CreateTopics, with configs and the broker's defaults.
    futures = admin.create_topics(
        [
            NewTopic("adm-a", num_partitions=3, replication_factor=1,
                     config={"retention.ms": "60000", "max.message.bytes": "100000",
                             "cleanup.policy": "delete"}),
            NewTopic("adm-b"),
            NewTopic(kept, num_partitions=4),
        ],
        operation_timeout=TIMEOUT,
    )
    for name, f in futures.items():
        f.result(TIMEOUT)
        ok(f"create_topics {name}")
    check(partitions(admin, "adm-a") == 3, "adm-a has 3 partitions")
    check(partitions(admin, "adm-b") == 1, "adm-b has the default partition count (1)")

    # Error cases of CreateTopics.
    fails_with(admin.create_topics([NewTopic("adm-a", 1)])["adm-a"],
               KafkaError.TOPIC_ALREADY_EXISTS, "create an existing topic")
    fails_with(admin.create_topics([NewTopic("adm-rf", 1, replication_factor=3)])["adm-rf"],
               KafkaError.INVALID_REPLICATION_FACTOR, "replication factor 3")
    err = fails_with(
        admin.create_topics([NewTopic("adm-c", 1, config={"cleanup.policy": "compact"})])["adm-c"],
        KafkaError.INVALID_CONFIG, "cleanup.policy=compact")
    check("cleanup.policy" in err.str(), "the refusal names cleanup.policy")
    err = fails_with(
        admin.create_topics([NewTopic("adm-c", 1, config={"segment.bytes": "10"})])["adm-c"],
        KafkaError.INVALID_CONFIG, "segment.bytes=10 (below the log's minimum)")
    check("segment.bytes" in err.str(), "the refusal names segment.bytes")
    fails_with(
        admin.create_topics([NewTopic("adm-c", 1, config={"no.such.config": "1"})])["adm-c"],
        KafkaError.INVALID_CONFIG, "an unknown config")
    fails_with(admin.create_topics([NewTopic("bad name!", 1)])["bad name!"],
               KafkaError.TOPIC_EXCEPTION, "an invalid topic name")
    fails_with(
        admin.create_topics([NewTopic("adm-c", 2, replica_assignment=[[0], [0]])])["adm-c"],
        KafkaError.INVALID_REPLICA_ASSIGNMENT, "a manual replica assignment")
    fails_with(admin.create_topics([NewTopic("adm-huge", 100000)])["adm-huge"],
               KafkaError.POLICY_VIOLATION, "more partitions than streams.max_partitions_per_stream")
    admin.create_topics([NewTopic("adm-v", 2)], validate_only=True)["adm-v"].result(TIMEOUT)
    md = admin.list_topics(timeout=TIMEOUT)
    check("adm-v" not in md.topics, "validate_only creates nothing")
    fails_with(admin.create_topics([NewTopic("adm-a", 1)], validate_only=True)["adm-a"],
               KafkaError.TOPIC_ALREADY_EXISTS, "validate_only still checks")

    # DescribeConfigs.
    configs = topic_configs(admin, "adm-a")
    check(configs["retention.ms"].value == "60000", "retention.ms as created")
    check(configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
          "retention.ms is DYNAMIC_TOPIC_CONFIG")
    check(configs["max.message.bytes"].value == "100000", "max.message.bytes as created")
    check(configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value,
          "segment.bytes is DEFAULT_CONFIG")
    check(configs["cleanup.policy"].value == "delete", "cleanup.policy is delete")
    check(configs["memstream.storage"].is_read_only, "memstream.storage is read-only")
    for name in ("retention.bytes", "memstream.fsync"):
        check(name in configs, f"{name} is described")
    res = ConfigResource(ResourceType.TOPIC, "adm-nope")
    fails_with(admin.describe_configs([res])[res], KafkaError.UNKNOWN_TOPIC_OR_PART,
               "describe_configs of a missing topic")
    res = ConfigResource(ResourceType.BROKER, str(node.id))
    broker = admin.describe_configs([res])[res].result(TIMEOUT)
    check(broker["num.partitions"].value == "1", "broker config num.partitions")

    # IncrementalAlterConfigs.
    def alter(topic, *entries, validate_only=False):
        res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=list(entries))
        return admin.incremental_alter_configs([res], validate_only=validate_only)[res]

    SET, DELETE = AlterConfigOpType.SET, AlterConfigOpType.DELETE
    alter("adm-a",
          ConfigEntry("retention.ms", "120000", incremental_operation=SET),
          ConfigEntry("segment.bytes", "2097152", incremental_operation=SET),
          ConfigEntry("max.message.bytes", None, incremental_operation=DELETE)).result(TIMEOUT)
    ok("incremental_alter_configs SET and DELETE")
    configs = topic_configs(admin, "adm-a")
    check(configs["retention.ms"].value == "120000", "retention.ms altered")
    check(configs["segment.bytes"].value == "2097152"
          and configs["segment.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
          "segment.bytes altered, now DYNAMIC_TOPIC_CONFIG")
    check(configs["max.message.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
          and configs["max.message.bytes"].value != "100000",
          "max.message.bytes back to the default")
    alter("adm-a", ConfigEntry("retention.ms", "5000", incremental_operation=SET),
          validate_only=True).result(TIMEOUT)
    check(topic_configs(admin, "adm-a")["retention.ms"].value == "120000",
          "validate_only alters nothing")
    fails_with(alter("adm-a", ConfigEntry("cleanup.policy", "compact", incremental_operation=SET)),
               KafkaError.INVALID_CONFIG, "alter cleanup.policy=compact")
    fails_with(alter("adm-a", ConfigEntry("max.message.bytes", "999999999",
                                          incremental_operation=SET)),
               KafkaError.INVALID_CONFIG, "max.message.bytes over the frame limit")
    fails_with(alter("adm-a", ConfigEntry("cleanup.policy", "delete",
                                          incremental_operation=AlterConfigOpType.APPEND)),
               KafkaError.INVALID_REQUEST, "APPEND")
    fails_with(alter("adm-nope", ConfigEntry("retention.ms", "1", incremental_operation=SET)),
               KafkaError.UNKNOWN_TOPIC_OR_PART, "alter a missing topic")

    # CreatePartitions: grow, never shrink; new partitions take records.
    admin.create_partitions([NewPartitions(kept, 6)])[kept].result(TIMEOUT)
    ok(f"create_partitions {kept} to 6")
    check(partitions(admin, kept) == 6, f"{kept} has 6 partitions")
    fails_with(admin.create_partitions([NewPartitions(kept, 2)])[kept],
               KafkaError.INVALID_PARTITIONS, "shrinking")
    fails_with(admin.create_partitions([NewPartitions(kept, 6)])[kept],
               KafkaError.INVALID_PARTITIONS, "the same count")
    admin.create_partitions([NewPartitions(kept, 8)], validate_only=True)[kept].result(TIMEOUT)
    check(partitions(admin, kept) == 6, "validate_only adds nothing")
    fails_with(admin.create_partitions([NewPartitions("adm-nope", 3)])["adm-nope"],
               KafkaError.UNKNOWN_TOPIC_OR_PART, "create_partitions of a missing topic")
    producer = Producer({"bootstrap.servers": bootstrap, "broker.address.family": "v4"})
    delivered = []
    producer.produce(kept, b"to the new partition", partition=5,
                     on_delivery=lambda err, msg: delivered.append((err, msg)))
    producer.flush(TIMEOUT)
    check(len(delivered) == 1 and delivered[0][0] is None
          and delivered[0][1].partition() == 5 and delivered[0][1].offset() == 0,
          f"a record produced to new partition 5 lands at offset 0 ({delivered})")

    # DeleteTopics.
    for name, f in admin.delete_topics(["adm-a", "adm-b"], operation_timeout=TIMEOUT).items():
        f.result(TIMEOUT)
        ok(f"delete_topics {name}")
    md = admin.list_topics(timeout=TIMEOUT)
    check("adm-a" not in md.topics and "adm-b" not in md.topics, "deleted topics are gone")
    fails_with(admin.delete_topics(["adm-a"])["adm-a"], KafkaError.UNKNOWN_TOPIC_OR_PART,
               "delete a missing topic")

    print(f"admin: {passed} checks passed", flush=True)


if __name__ == "__main__":
    main()
