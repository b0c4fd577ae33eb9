/// Why the order manager closed a batch.
public enum CloseReason: String, Hashable, Sendable, CaseIterable {
    /// The batch reached its size (member count or quantity).
    case size
    /// The batch's window (linger) ended.
    case linger
}
