import ArgumentParser
import CommandLineSupport
import Foundation
import OTLPReceiver
import Synchronization

/// An OTLP/HTTP receiver that counts the spans of protobuf requests; prints its endpoint, then
/// its count for each line it reads on its standard input, and stops at the input's end.
///
/// A line asks, not a signal: a request written before the reader is ready waits in the pipe.
/// A SIGUSR1 sent between "listening" and the moment a dispatch source was armed (its `resume()`
/// returns before) was ignored, and the parent waited for an answer forever.
struct SinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sink", abstract: "An OTLP/HTTP receiver that counts spans (for bench spans).", shouldDisplay: false)

    func run() async throws {
        let count = Atomic<Int>(0)
        let receiver = try await OTLPHTTPReceiver.start { body, _ in
            count.wrappingAdd(SpanCount.protobuf(body), ordering: .relaxed)
        }
        say("listening \(receiver.tracesEndpoint)")
        await withCheckedContinuation { (ended: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                while readLine() != nil { say("\(count.load(ordering: .relaxed))") }
                ended.resume()
            }
        }
        await receiver.stop()
    }
}
