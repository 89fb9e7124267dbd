"""Real Kafka clients against a MemoryStreamer Kafka listener with security on (SASL), driven
by crates/cli/tests/it/kafka_security.rs. Each subcommand exits non-zero with a message when a
check fails; every wait is bounded.

    python sasl.py BOOTSTRAP confluent TOPIC DENIED_TOPIC USER PASSWORD
    python sasl.py BOOTSTRAP kafka-python TOPIC USER PASSWORD
    python sasl.py BOOTSTRAP confluent-acls ADMIN PASSWORD
    python sasl.py BOOTSTRAP confluent-ssl TOPIC USER PASSWORD CA_FILE
    python sasl.py BOOTSTRAP confluent-revoke TOPIC USER PASSWORD ADMIN ADMIN_PASSWORD
    python sasl.py BOOTSTRAP kafka-python-acls ADMIN ADMIN_PASSWORD
    python sasl.py BOOTSTRAP confluent-users ADMIN ADMIN_PASSWORD

USER may write and read TOPIC and use every group; DENIED_TOPIC exists but USER has no ACL
on it. ADMIN is a superuser.
"""

import sys
import time

DEADLINE_S = 120


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def sasl(mechanism, user, password):
    return {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mechanism,
            "sasl.username": user, "sasl.password": password}


def confluent(bootstrap, topic, denied, user, password):
    """Both SCRAM mechanisms produce and consume in a group; a topic without an ACL is
    TOPIC_AUTHORIZATION_FAILED; a wrong password is an authentication failure."""
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

    for mechanism in ("SCRAM-SHA-512", "SCRAM-SHA-256"):
        conf = dict(sasl(mechanism, user, password), **{"bootstrap.servers": bootstrap})
        p = Producer(dict(conf, **{"enable.idempotence": True, "acks": "all"}))
        errors = []
        for i in range(100):
            p.produce(topic, value=b"%s-%d" % (mechanism.encode(), i),
                      on_delivery=lambda err, msg: err and errors.append(err))
        if p.flush(DEADLINE_S) != 0 or errors:
            fail("%s produce: %r" % (mechanism, errors[:3]))
        c = Consumer(dict(conf, **{"group.id": "g-" + mechanism, "auto.offset.reset": "earliest",
                                   "enable.auto.commit": False}))
        c.subscribe([topic])
        got, end = [], time.time() + DEADLINE_S
        while len(got) < 100 and time.time() < end:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                fail("%s consume: %s" % (mechanism, m.error()))
            if m.value().startswith(mechanism.encode()):
                got.append(m)
        if len(got) != 100:
            fail("%s consumed %d of 100" % (mechanism, len(got)))
        c.commit(asynchronous=False)
        c.close()
    print("ok: confluent-kafka SCRAM-SHA-512 and SCRAM-SHA-256 produce, group consume, commit")

    conf = dict(sasl("SCRAM-SHA-512", user, password), **{"bootstrap.servers": bootstrap})
    p = Producer(dict(conf, **{"message.timeout.ms": 30000}))
    refused = []
    p.produce(denied, value=b"x", on_delivery=lambda err, msg: refused.append(err))
    p.flush(DEADLINE_S)
    if not refused or refused[0] is None or \
            refused[0].code() != KafkaError.TOPIC_AUTHORIZATION_FAILED:
        fail("produce to %s without an ACL: %r" % (denied, refused))
    print("ok: producing without an ACL is %s" % refused[0].name())

    errors = []
    bad = dict(sasl("SCRAM-SHA-512", user, password + "-wrong"),
               **{"bootstrap.servers": bootstrap, "error_cb": errors.append})
    p = Producer(bad)
    try:
        p.list_topics(timeout=10)
        fail("metadata with a wrong password succeeded")
    except KafkaException:
        pass
    end = time.time() + DEADLINE_S
    while not any(e.code() == KafkaError._AUTHENTICATION for e in errors) and time.time() < end:
        p.poll(0.2)
    auth = [e for e in errors if e.code() == KafkaError._AUTHENTICATION]
    if not auth or "Authentication failed" not in auth[0].str():
        fail("a wrong password: %r" % errors)
    print("ok: a wrong password: %s" % auth[0].str())


def kafka_python(bootstrap, topic, user, password):
    """kafka-python's SCRAM (SaslHandshake v0, raw tokens) produces and consumes."""
    from kafka import KafkaConsumer, KafkaProducer

    conf = {"bootstrap_servers": bootstrap, "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-256", "sasl_plain_username": user,
            "sasl_plain_password": password, "api_version_auto_timeout_ms": 30000}
    p = KafkaProducer(acks="all", **conf)
    futures = [p.send(topic, value=b"kp-%d" % i) for i in range(50)]
    p.flush(DEADLINE_S)
    for f in futures:
        f.get(DEADLINE_S)
    c = KafkaConsumer(group_id="kp-sasl", auto_offset_reset="earliest", enable_auto_commit=False,
                      consumer_timeout_ms=10000, **conf)
    c.subscribe([topic])
    got, end = [], time.time() + DEADLINE_S
    while len(got) < 50 and time.time() < end:
        for records in c.poll(timeout_ms=500).values():
            got.extend(r for r in records if r.value.startswith(b"kp-"))
    c.close()
    if len(got) != 50:
        fail("kafka-python consumed %d of 50" % len(got))
    print("ok: kafka-python SCRAM-SHA-256 produce and group consume")


def confluent_acls(bootstrap, admin_user, password):
    """A superuser creates, lists and deletes ACLs with the admin API."""
    from confluent_kafka.admin import (AclBinding, AclBindingFilter, AclOperation,
                                       AclPermissionType, AdminClient, ResourcePatternType,
                                       ResourceType)

    admin = AdminClient(dict(sasl("SCRAM-SHA-512", admin_user, password),
                             **{"bootstrap.servers": bootstrap}))
    binding = AclBinding(ResourceType.TOPIC, "from-admin-api", ResourcePatternType.PREFIXED,
                         "User:bob", "*", AclOperation.READ, AclPermissionType.ALLOW)
    for f in admin.create_acls([binding], request_timeout=30).values():
        f.result(timeout=DEADLINE_S)
    bob = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY, "User:bob", None,
                           AclOperation.ANY, AclPermissionType.ANY)
    listed = admin.describe_acls(bob, request_timeout=30).result(timeout=DEADLINE_S)
    if listed != [binding]:
        fail("describe_acls: %r" % listed)
    deleted = [f.result(timeout=DEADLINE_S)
               for f in admin.delete_acls([bob], request_timeout=30).values()]
    if deleted != [[binding]]:
        fail("delete_acls: %r" % deleted)
    if admin.describe_acls(bob, request_timeout=30).result(timeout=DEADLINE_S):
        fail("the ACL survived its deletion")
    print("ok: confluent-kafka create_acls, describe_acls, delete_acls as a superuser")


def confluent_ssl(bootstrap, topic, user, password, ca_file):
    """SASL_SSL with SCRAM-SHA-512: the broker's certificate checked against CA_FILE."""
    from confluent_kafka import Consumer, Producer

    conf = {"bootstrap.servers": bootstrap, "security.protocol": "SASL_SSL",
            "ssl.ca.location": ca_file, "sasl.mechanisms": "SCRAM-SHA-512",
            "sasl.username": user, "sasl.password": password}
    p = Producer(dict(conf, **{"enable.idempotence": True}))
    errors = []
    for i in range(100):
        p.produce(topic, value=b"ssl-%d" % i, on_delivery=lambda err, msg: err and errors.append(err))
    if p.flush(DEADLINE_S) != 0 or errors:
        fail("SASL_SSL produce: %r" % errors[:3])
    c = Consumer(dict(conf, **{"group.id": "g-ssl", "auto.offset.reset": "earliest"}))
    c.subscribe([topic])
    got, end = 0, time.time() + DEADLINE_S
    while got < 100 and time.time() < end:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            fail("SASL_SSL consume: %s" % m.error())
        got += m.value().startswith(b"ssl-")
    c.close()
    if got != 100:
        fail("SASL_SSL consumed %d of 100" % got)
    print("ok: confluent-kafka SASL_SSL SCRAM-SHA-512 produce and group consume")


def confluent_revoke(bootstrap, topic, user, password, admin_user, admin_password):
    """A revoked permission takes effect on the next request of a connection that had it:
    USER produces, ADMIN deletes USER's WRITE on TOPIC, the same producer's next record is
    TOPIC_AUTHORIZATION_FAILED."""
    from confluent_kafka import KafkaError, Producer
    from confluent_kafka.admin import (AclBindingFilter, AclOperation, AclPermissionType,
                                       AdminClient, ResourcePatternType, ResourceType)

    p = Producer(dict(sasl("SCRAM-SHA-512", user, password),
                      **{"bootstrap.servers": bootstrap, "message.timeout.ms": 30000}))
    results = []
    p.produce(topic, value=b"before", on_delivery=lambda err, msg: results.append(err))
    p.flush(DEADLINE_S)
    if results != [None]:
        fail("produce before the revocation: %r" % results)
    admin = AdminClient(dict(sasl("SCRAM-SHA-512", admin_user, admin_password),
                             **{"bootstrap.servers": bootstrap}))
    write = AclBindingFilter(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL,
                             "User:" + user, None, AclOperation.WRITE, AclPermissionType.ALLOW)
    deleted = [f.result(timeout=DEADLINE_S)
               for f in admin.delete_acls([write], request_timeout=30).values()]
    if len(deleted) != 1 or len(deleted[0]) != 1:
        fail("delete_acls: %r" % deleted)
    results.clear()
    p.produce(topic, value=b"after", on_delivery=lambda err, msg: results.append(err))
    p.flush(DEADLINE_S)
    if len(results) != 1 or results[0] is None or \
            results[0].code() != KafkaError.TOPIC_AUTHORIZATION_FAILED:
        fail("produce after the revocation: %r" % results)
    print("ok: a revoked WRITE refuses the same producer's next record (%s)" % results[0].name())


def kafka_python_acls(bootstrap, admin_user, password):
    """kafka-python's admin client (SCRAM-SHA-256) creates, lists and deletes an ACL."""
    from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,
                             ACLResourcePatternType, KafkaAdminClient, ResourcePattern,
                             ResourcePatternFilter, ResourceType)

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT",
                             sasl_mechanism="SCRAM-SHA-256", sasl_plain_username=admin_user,
                             sasl_plain_password=password, api_version_auto_timeout_ms=30000,
                             request_timeout_ms=30000)
    acl = ACL(principal="User:carol", host="*", operation=ACLOperation.READ,
              permission_type=ACLPermissionType.ALLOW,
              resource_pattern=ResourcePattern(ResourceType.GROUP, "kp-group"))
    created = admin.create_acls([acl])
    if created["failed"] or len(created["succeeded"]) != 1:
        fail("kafka-python create_acls: %r" % created)
    carol = ACLFilter(principal="User:carol", host="*", operation=ACLOperation.ANY,
                      permission_type=ACLPermissionType.ANY,
                      resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                             ACLResourcePatternType.ANY))
    listed, err = admin.describe_acls(carol)
    if len(listed) != 1 or listed[0].resource_pattern.resource_name != "kp-group":
        fail("kafka-python describe_acls: %r %r" % (listed, err))
    deleted = admin.delete_acls([carol])
    if len(deleted) != 1 or len(deleted[0][1]) != 1:
        fail("kafka-python delete_acls: %r" % (deleted,))
    admin.close()
    print("ok: kafka-python create_acls, describe_acls, delete_acls as a superuser")


def confluent_users(bootstrap, admin_user, password):
    """A superuser manages users online (AlterUserScramCredentials,
    DescribeUserScramCredentials): a user made this way logs in, a deleted one cannot."""
    from confluent_kafka import KafkaError, KafkaException, Producer
    from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism,
                                       UserScramCredentialDeletion,
                                       UserScramCredentialUpsertion)

    admin = AdminClient(dict(sasl("SCRAM-SHA-512", admin_user, password),
                             **{"bootstrap.servers": bootstrap}))
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
    for f in admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion("dave", info, b"dave-pw")], request_timeout=30).values():
        f.result(timeout=DEADLINE_S)
    described = admin.describe_user_scram_credentials(["dave"], request_timeout=30)
    infos = described["dave"].result(timeout=DEADLINE_S).scram_credential_infos
    if [(i.mechanism, i.iterations) for i in infos] != [(ScramMechanism.SCRAM_SHA_512, 8192)]:
        fail("describe_user_scram_credentials: %r" % infos)

    def login(pw):
        errors = []
        p = Producer(dict(sasl("SCRAM-SHA-512", "dave", pw),
                          **{"bootstrap.servers": bootstrap, "error_cb": errors.append}))
        try:
            p.list_topics(timeout=15)
            return None
        except KafkaException:
            end = time.time() + DEADLINE_S
            while not errors and time.time() < end:
                p.poll(0.2)
            return errors

    if login("dave-pw") is not None:
        fail("dave cannot log in with the password set online")
    for f in admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion("dave", ScramMechanism.SCRAM_SHA_512)],
            request_timeout=30).values():
        f.result(timeout=DEADLINE_S)
    errors = login("dave-pw")
    if not errors or not any(e.code() == KafkaError._AUTHENTICATION for e in errors):
        fail("a deleted user logged in: %r" % errors)
    print("ok: confluent-kafka alter/describe_user_scram_credentials: a user made online logs in, "
          "a deleted one cannot")


if __name__ == "__main__":
    bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"confluent": confluent, "kafka-python": kafka_python,
     "confluent-acls": confluent_acls, "confluent-ssl": confluent_ssl,
     "confluent-revoke": confluent_revoke, "kafka-python-acls": kafka_python_acls,
     "confluent-users": confluent_users}[cmd](bootstrap, *args)
