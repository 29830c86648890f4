"""NATS JetStream: the publisher of the "nats" transport and the durable consumer that stores
its records."""
