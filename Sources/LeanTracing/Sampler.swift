import OTLPWire
import Settings
import TraceContext

/// Which traces are recorded, as `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` say:
/// `always_on`, `always_off`, `traceidratio`, and their `parentbased_` forms (the default is
/// `parentbased_always_on`). A parent-based sampler follows the parent's sampled flag and asks
/// its root sampler only for new traces.
public enum Sampler: Sendable, Hashable {
    case alwaysOn
    case alwaysOff
    /// Records a trace when the low 8 bytes of its id fall below `ratio` of their range, so
    /// every process takes the same decision for the same trace.
    case traceIDRatio(Double)
    indirect case parentBased(root: Sampler)

    /// Whether a span with `parent` (nil for a root) in trace `traceID` is recorded.
    public func shouldSample(traceID: TraceID, parent: SpanContext?) -> Bool {
        switch self {
        case .alwaysOn: return true
        case .alwaysOff: return false
        case .traceIDRatio(let ratio):
            if ratio >= 1 { return true }
            if ratio <= 0 { return false }
            return Double(traceID.low >> 11) < ratio * Double(UInt64(1) << 53)
        case .parentBased(let root):
            if let parent { return parent.isSampled }
            return root.shouldSample(traceID: traceID, parent: nil)
        }
    }

    /// The sampler the environment names.
    /// - Throws: `ConfigurationError` for an unknown name or a ratio that is not a number in 0...1.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> Sampler {
        let name = (environment["OTEL_TRACES_SAMPLER"] ?? "parentbased_always_on").lowercased()
        func ratio() throws(ConfigurationError) -> Double {
            guard let text = environment["OTEL_TRACES_SAMPLER_ARG"] else { return 1 }
            guard let value = Double(text), value >= 0, value <= 1 else {
                throw ConfigurationError(setting: "OTEL_TRACES_SAMPLER_ARG", problem: "\"\(text)\" is not a number from 0 to 1")
            }
            return value
        }
        switch name {
        case "always_on": return .alwaysOn
        case "always_off": return .alwaysOff
        case "traceidratio": return .traceIDRatio(try ratio())
        case "parentbased_always_on": return .parentBased(root: .alwaysOn)
        case "parentbased_always_off": return .parentBased(root: .alwaysOff)
        case "parentbased_traceidratio": return .parentBased(root: .traceIDRatio(try ratio()))
        default:
            throw ConfigurationError(
                setting: "OTEL_TRACES_SAMPLER", problem: "\"\(name)\" is not a sampler",
                remedy: "use always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio")
        }
    }
}
