import Baggage
import Hummingbird
import Kafka
import KafkaTracing
import Logging
import OrderModel
import Pipeline
import TraceContext
import Tracing
import WireJSON

/// A valid order on its way to Kafka: its record and its `client_order_received` span.
struct PendingOrder: Sendable {
    var order: ClientOrder
    var record: KafkaProducerRecord
    var span: any MessagingSpan
    /// When the gateway received it (the order's latency starts here).
    var receivedAt: ContinuousClock.Instant
}

extension OrderGateway {
    /// Starts the order's trace: a root `client_order_received` SERVER span with the business ids,
    /// whose context carries `baggage` with `user.id` and `client.order_id` set by the gateway.
    func startOrder(_ order: ClientOrder, baggage incoming: Baggage = Baggage()) -> PendingOrder {
        let receivedAt = ContinuousClock.now
        let span = OrderGatewaySpans.startReceived(order, baggage: incoming)
        let record = KafkaProducerRecord(topic: configuration.topics.clientOrders, key: order.symbol, value: order.encodeJSON())
        return PendingOrder(order: order, record: record, span: span, receivedAt: receivedAt)
    }

    /// Sends orders in order (one produce call) and waits for their delivery; ends each order's
    /// span. Returns, per order, `nil` when Kafka has it, or the rejection to tell the client.
    func send(_ orders: [PendingOrder]) async -> [OrderRejection?] {
        let outcomes: [Result<KafkaDeliveryReport, KafkaError>]
        do {
            outcomes = try await producer.send(orders.map(\.record), parents: orders.map { .span($0.span) })
        } catch let error as KafkaError {
            outcomes = orders.map { _ in .failure(error) }
        } catch {
            return orders.map { finish($0, failure: "\(error)") }
        }
        return zip(orders, outcomes).map { order, outcome in
            switch outcome {
            case .success:
                latency.received(order.order, at: order.receivedAt)
                order.span.end()
                return nil
            case .failure(let error):
                order.span.recordError(error)
                return finish(order, failure: error.message)
            }
        }
    }

    /// Ends the span of an order that did not reach Kafka; returns the rejection for the client.
    func finish(_ order: PendingOrder, failure: String) -> OrderRejection {
        let reason = "not accepted: sending to \(configuration.topics.clientOrders) failed (\(failure)); send it again"
        order.span.attributes[BusinessAttribute.rejectReason] = reason
        order.span.setStatus(SpanStatus(code: .error, message: failure))
        order.span.end()
        logger.warning(
            "order not delivered to Kafka",
            metadata: [
                GatewayLogKey.userID: "\(order.order.userId)", GatewayLogKey.clientOrderID: "\(order.order.clientOrderId)",
                GatewayLogKey.error: "\(failure)",
            ])
        return OrderRejection(order: order.order, problems: [ValidationError(field: "", code: .inconsistent, reason: reason)])
    }

    /// `POST /v1/orders`.
    func handlePost(_ request: Request) async throws -> Response {
        guard let user = authenticatedUser(request, allowQueryToken: false) else { return unauthorizedResponse() }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxMessageBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // `collect(upTo:)` throws NIO's `NIOTooManyBytesError` (which Hummingbird answers with a
            // bare 413), not an `HTTPError`: match on the status, so the client hears why.
            return jsonResponse(
                .contentTooLarge,
                #"{"status":"rejected","reason":"the order is larger than \#(configuration.maxMessageBytes) bytes"}"#)
        }
        let decoded = body.withUnsafeReadableBytes { OrderIntake.decode($0, userId: user) }
        let order: ClientOrder
        switch decoded {
        case .failure(let rejection):
            return jsonResponse(.badRequest, rejection.json())
        case .success(let valid):
            order = valid
        }
        let incoming = request.headers[values: .init("baggage")!]
        let pending = startOrder(order, baggage: incoming.isEmpty ? Baggage() : Baggage(headerValues: incoming))
        let traceID = StoredTraceContext.traceparent(of: pending.span).map { String($0.dropFirst(3).prefix(32)) }
        if let rejection = await send([pending])[0] {
            return jsonResponse(.serviceUnavailable, rejection.json())
        }
        let reply = JSONWriter.object(escapes: .unicode) { writer in
            writer.field("clientOrderId", order.clientOrderId)
            writer.field("userId", order.userId)
            writer.field("status", "received")
            writer.field("traceId", traceID)
        }
        return jsonResponse(.accepted, String(decoding: reply, as: UTF8.self))
    }
}
