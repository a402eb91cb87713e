/** The node process: Kafka protocol server, request handlers, HTTP endpoints, configuration, lifecycle. */
package dev.sluice.broker;
