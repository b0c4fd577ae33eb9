import HummingbirdWebSocket
import Logging
import NIOCore
import OrderModel

extension OrderGateway {
    /// Serves one WebSocket of `user` until it closes: reads orders, sends the valid ones to Kafka
    /// in order (without waiting for each delivery before reading the next message), and writes
    /// replies and updates from the socket's bounded queue, each run of them at once
    /// (``SocketFrameWriter``, on `channel`, the socket's connection).
    ///
    /// Three tasks: the reader (with its sender), the writer, and a watch on the queue. Whichever
    /// ends first ends the others; a socket whose queue overflowed is then closed with code 1008
    /// and a reason.
    func serveSocket(user: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel) async {
        let connection: SocketConnection
        switch connections.register(userId: user, limits: socketLimits) {
        case .success(let registered):
            connection = registered
        case .failure(let refusal):
            // Another socket of the user (or of anyone) was opened after the upgrade was allowed.
            self.logger.notice("WebSocket refused", metadata: [GatewayLogKey.userID: "\(user)", GatewayLogKey.error: "\(refusal.reason)"])
            try? await outbound.close(.policyViolation, reason: refusal.reason)
            return
        }
        let logger = {
            var logger = self.logger
            logger[metadataKey: GatewayLogKey.userID] = "\(user)"
            logger[metadataKey: GatewayLogKey.socketID] = "\(connection.id)"
            return logger
        }()
        logger.debug("socket opened")
        defer { connections.remove(connection) }

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let writer = SocketFrameWriter(channel: channel, outbound: outbound)
                while let texts = await connection.takeAll() {
                    if connection.closeReason != nil { break }
                    do {
                        try await writer.write(texts)
                    } catch {
                        break
                    }
                }
            }
            group.addTask { await connection.waitUntilClosing() }
            group.addTask {
                let pending = BoundedBatchQueue<PendingOrder>(capacity: configuration.maxPendingOrdersPerSocket)
                await withTaskGroup(of: Void.self) { inner in
                    inner.addTask { await self.sendLoop(pending, connection: connection) }
                    await self.readLoop(inbound, user: user, connection: connection, pending: pending, logger: logger)
                    pending.finish()
                }
            }
            await group.next()
            group.cancelAll()
        }

        if let reason = connection.closeReason {
            logger.warning("closing a socket that fell behind", metadata: [GatewayLogKey.error: "\(reason)"])
            // A client that reads nothing may never take the close frame either: do not wait for it long.
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await outbound.close(.policyViolation, reason: reason) }
                group.addTask { try? await Task.sleep(for: .seconds(2)) }
                await group.next()
                group.cancelAll()
            }
        }
        logger.debug("socket closed")
    }

    /// Reads messages (collating fragments) and hands each order on; never throws on input.
    private func readLoop(
        _ inbound: WebSocketInboundStream, user: String, connection: SocketConnection,
        pending: BoundedBatchQueue<PendingOrder>, logger: Logger
    ) async {
        let limit = configuration.maxMessageBytes
        var message: [UInt8] = []
        var isText = true
        var isTooLarge = false
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .text, .binary:
                    message.removeAll(keepingCapacity: message.capacity <= 4 * 1024)
                    isText = frame.opcode == .text
                    isTooLarge = false
                case .continuation:
                    break
                }
                if !isTooLarge {
                    if message.count + frame.data.readableBytes > limit {
                        isTooLarge = true
                        message = []
                    } else {
                        message.append(contentsOf: frame.data.readableBytesView)
                    }
                }
                guard frame.fin else { continue }
                if isTooLarge {
                    reject(
                        ValidationError(field: "", code: .tooLong, reason: "message larger than \(limit) bytes: send one order per message"),
                        user: user, connection: connection)
                } else if !isText {
                    reject(
                        ValidationError(field: "", code: .notJSON, reason: "binary messages are not read: send each order as one JSON text message"),
                        user: user, connection: connection)
                } else {
                    let decoded = message.withUnsafeBytes { OrderIntake.decode($0, userId: user) }
                    switch decoded {
                    case .failure(let rejection):
                        logger.debug("order rejected", metadata: [GatewayLogKey.error: "\(rejection.reason)"])
                        connection.enqueue(rejection.json())
                    case .success(let order):
                        let order = startOrder(order)
                        if !(await pending.push(order)) {
                            connection.enqueue(finish(order, failure: "the connection is closing").json())
                        }
                    }
                }
            }
        } catch {
            logger.debug("socket read ended", metadata: [GatewayLogKey.error: "\(error)"])
        }
    }

    private func reject(_ problem: ValidationError, user: String, connection: SocketConnection) {
        connection.enqueue(OrderRejection(problems: [problem], userId: user, input: UnsafeRawBufferPointer(start: nil, count: 0)).json())
    }

    /// Sends what the reader handed over, each run of orders as one call, in order.
    private func sendLoop(_ pending: BoundedBatchQueue<PendingOrder>, connection: SocketConnection) async {
        while let orders = await pending.takeAll() {
            for rejection in await send(orders) {
                if let rejection { connection.enqueue(rejection.json()) }
            }
        }
    }
}
