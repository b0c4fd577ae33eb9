/// The configured bearer tokens, looked up without leaking through timing which token, or how much
/// of one, a guess got right.
///
/// A dictionary lookup hashes the presented token and compares it byte by byte with early exit;
/// this compares it with every configured token in full, and goes on after a match.
struct TokenTable: Sendable {
    private let entries: [(token: [UInt8], user: String)]

    init(_ tokens: [String: String]) {
        entries = tokens.map { (token: Array($0.key.utf8), user: $0.value) }
    }

    /// The user `presented` names, or `nil` (an empty token names nobody).
    func user(for presented: some StringProtocol) -> String? {
        let presented = Array(presented.utf8)
        var user: String?
        for entry in entries {
            let matches = Self.constantTimeEquals(presented, entry.token)
            // No early exit: every entry is compared whatever the earlier ones gave.
            if matches && !presented.isEmpty { user = entry.user }
        }
        return user
    }

    /// Whether `a` and `b` are equal, in a time that depends on their lengths only: every byte
    /// position up to the longer length is read and folded in, with no branch on the contents.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
