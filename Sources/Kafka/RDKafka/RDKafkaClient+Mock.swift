import CRdKafka

/// librdkafka's in-process mock cluster (`rdkafka_mock.h`), driven through its owning client.
extension RDKafkaClient {
    /// Starts a mock cluster of `brokers` brokers owned by this client, which must outlive it.
    func makeMockCluster(brokers: Int) throws -> OpaquePointer {
        guard let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            throw KafkaError(code: .broker, message: "librdkafka could not start a mock cluster of \(brokers) brokers")
        }
        return cluster
    }

    func destroyMockCluster(_ cluster: OpaquePointer) {
        rd_kafka_mock_cluster_destroy(cluster)
    }

    /// The brokers' own listener addresses (random ports), comma-separated.
    func mockBootstraps(_ cluster: OpaquePointer) -> String {
        String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    func mockCreateTopic(_ cluster: OpaquePointer, name: String, partitions: Int, replicationFactor: Int) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.fromLibrary(err, code: .broker, context: "creating topic '\(name)' on the embedded broker")
        }
    }

    func mockSetBroker(_ cluster: OpaquePointer, id: Int32, up: Bool) {
        if up {
            rd_kafka_mock_broker_set_up(cluster, id)
        } else {
            rd_kafka_mock_broker_set_down(cluster, id)
        }
    }

    /// Makes the next `count` produce requests fail with `errorCode` (a broker error number).
    func mockFailProduceRequests(_ cluster: OpaquePointer, count: Int, errorCode: Int32) {
        let errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: errorCode), count: count)
        errors.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, 0 /* Produce */, count, buffer.baseAddress)
        }
    }
}

extension RDKafkaClient {
    /// Makes the next `count` requests of protocol request type `apiKey` fail with `errorCode`.
    func mockFailRequests(_ cluster: OpaquePointer, apiKey: Int16, count: Int, errorCode: Int32) {
        let errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(rawValue: errorCode), count: count)
        errors.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, count, buffer.baseAddress)
        }
    }

    func mockSetLeader(_ cluster: OpaquePointer, topic: String, partition: Int32, broker: Int32) throws {
        let err = rd_kafka_mock_partition_set_leader(cluster, topic, partition, broker)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.fromLibrary(err, code: .broker, context: "moving the leader of \(topic)[\(partition)] to broker \(broker)")
        }
    }

    func mockSetRTT(_ cluster: OpaquePointer, broker: Int32, milliseconds: Int) throws {
        let err = rd_kafka_mock_broker_set_rtt(cluster, broker, Int32(clamping: milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError.fromLibrary(err, code: .broker, context: "setting the latency of broker \(broker)")
        }
    }
}
