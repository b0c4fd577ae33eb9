import ArgumentParser
import CommandLineSupport
import Foundation
import Glibc
import OTLPReceiver
import Synchronization

/// An OTLP/HTTP receiver that counts the spans of protobuf requests; prints its endpoint, then
/// its count whenever it gets SIGUSR1.
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sink", abstract: "An OTLP/HTTP receiver that counts spans (for bench spans).", shouldDisplay: false)

    func run() async throws {
        let count = Atomic<Int>(0)
        let receiver = try await OTLPHTTPReceiver.start { body, _ in
            count.wrappingAdd(SpanCount.protobuf(body), ordering: .relaxed)
        }
        // SIGUSR1 is handled before "listening" is printed: the parent may ask for the count as
        // soon as it reads that line, and the signal's default action would end this process.
        let signals = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        signal(SIGUSR1, SIG_IGN)
        signals.setEventHandler { say("\(count.load(ordering: .relaxed))") }
        signals.resume()
        say("listening \(receiver.tracesEndpoint)")
        let stop = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
        signal(SIGTERM, SIG_IGN)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            stop.setEventHandler { continuation.resume() }
            stop.resume()
        }
        await receiver.stop()
    }
}
