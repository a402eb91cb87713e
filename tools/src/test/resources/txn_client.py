#!/usr/bin/python3
"""A librdkafka transactional producer (Python's confluent-kafka) for ProcessTransactionsTest.

Usage: txn_client.py BOOTSTRAP_SERVERS TOPIC TRANSACTIONAL_ID

Initialises transactions, commits one transaction of ten records ("librdkafka-committed-0".."-9") and aborts
another of ten ("librdkafka-aborted-0".."-9"), which are flushed to the partitions before the abort. The
records are spread over the topic's partitions by key. Exits 0 when every step succeeded, 1 (with the error on
stderr) otherwise; progress goes to stdout.
"""

import sys

from confluent_kafka import KafkaException, Producer

TIMEOUT_S = 30.0


def produce(producer, topic, prefix, failures):
    def on_delivery(err, msg):
        if err is not None:
            failures.append("%s: %s" % (msg.value().decode(), err))

    for i in range(10):
        value = "%s-%d" % (prefix, i)
        producer.produce(topic, key="key-%d" % i, value=value, on_delivery=on_delivery)
    remaining = producer.flush(TIMEOUT_S)
    if remaining:
        raise RuntimeError("%d %s records not delivered within %.0f s" % (remaining, prefix, TIMEOUT_S))


def main(argv):
    if len(argv) != 4:
        print("usage: txn_client.py BOOTSTRAP_SERVERS TOPIC TRANSACTIONAL_ID", file=sys.stderr)
        return 2
    bootstrap, topic, transactional_id = argv[1:]
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": transactional_id,
        "transaction.timeout.ms": 30000,
        "socket.timeout.ms": 15000,
        "message.timeout.ms": 30000,
    })
    failures = []
    try:
        producer.init_transactions(TIMEOUT_S)
        print("init_transactions: ok", flush=True)

        producer.begin_transaction()
        produce(producer, topic, "librdkafka-committed", failures)
        producer.commit_transaction(TIMEOUT_S)
        print("committed 10 records", flush=True)

        producer.begin_transaction()
        produce(producer, topic, "librdkafka-aborted", failures)
        producer.abort_transaction(TIMEOUT_S)
        print("aborted 10 records", flush=True)
    except (KafkaException, RuntimeError) as e:
        print("transaction failed: %s" % (e,), file=sys.stderr, flush=True)
        return 1
    if failures:
        print("delivery failed: %s" % ("; ".join(failures),), file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
