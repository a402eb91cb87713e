/**
 * The Kafka protocol server: a Netty listener that frames, parses and answers Kafka requests with
 * kafka-clients' own message classes, in request order per connection, with a bounded number of
 * requests in flight per connection. Request logic lives behind {@link dev.sluice.broker.net.RequestHandler}.
 */
package dev.sluice.broker.net;
