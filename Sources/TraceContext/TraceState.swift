/// W3C Trace Context `tracestate`: validated when it arrives, capped when it is passed on.
///
/// A value is a list of `key=value` members separated by `,` (optional spaces and tabs around
/// each). The grammar (Trace Context, section 3.3):
///
/// - `key = simple-key / multi-tenant-key`; `simple-key = lcalpha 0*255(lcalpha / DIGIT / "_" /
///   "-" / "*" / "/")`; `multi-tenant-key = tenant-id "@" system-id` with a tenant id of 1 to 241
///   of those characters starting with a letter or digit, and a system id of 1 to 14 starting
///   with a letter;
/// - `value = 0*255(chr) nblk-chr`: 1 to 256 printable ASCII characters (0x20-0x7E) except `,`
///   and `=`, not ending in a space;
/// - at most 32 members, each key once; empty members are allowed and skipped.
///
/// A value that breaks any of these is dropped whole (a vendor that cannot parse it must not
/// pass it on). A valid one is passed on within 512 characters: members longer than 128
/// characters go first, then members from the right (the oldest), whole, never cut.
public enum TraceState {
    /// The most members a `tracestate` may hold.
    public static let maxMembers = 32
    /// The most characters passed on.
    public static let maxPropagatedLength = 512
    /// Members longer than this are the first dropped to fit ``maxPropagatedLength``.
    public static let longMemberLength = 128

    /// The `tracestate` to keep and pass on for `value`: its members, normalized (no spaces
    /// around them, no empty ones) and capped at ``maxPropagatedLength``; `nil` when `value` is
    /// not valid or holds no member.
    public static func sanitized(_ value: some StringProtocol) -> String? {
        var members: [Substring] = []
        var keys: Set<Substring> = []
        for raw in Substring(value).split(separator: ",", omittingEmptySubsequences: false) {
            let member = trimmed(raw)
            if member.isEmpty { continue }
            guard let equals = member.firstIndex(of: "=") else { return nil }
            let key = member[..<equals]
            let memberValue = member[member.index(after: equals)...]
            guard isValidKey(key), isValidValue(memberValue), keys.insert(key).inserted else { return nil }
            members.append(member)
            if members.count > maxMembers { return nil }
        }
        if members.isEmpty { return nil }
        return capped(members)
    }

    /// `sanitized(_:)` over a header value's bytes (not UTF-8: dropped).
    public static func sanitized(bytes: [UInt8]) -> String? {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        return sanitized(String(decoding: bytes, as: UTF8.self))
    }

    /// Whether `key` is a `simple-key` or a `multi-tenant-key`.
    public static func isValidKey(_ key: Substring) -> Bool {
        let utf8 = key.utf8
        if let at = utf8.firstIndex(of: UInt8(ascii: "@")) {
            let tenant = utf8[..<at]
            let system = utf8[utf8.index(after: at)...]
            guard let tenantFirst = tenant.first, (isLowerAlpha(tenantFirst) || isDigit(tenantFirst)), tenant.count <= 241,
                tenant.dropFirst().allSatisfy(isKeyCharacter)
            else { return false }
            guard let systemFirst = system.first, isLowerAlpha(systemFirst), system.count <= 14,
                system.dropFirst().allSatisfy(isKeyCharacter)
            else { return false }
            return true
        }
        guard let first = utf8.first, isLowerAlpha(first), utf8.count <= 256 else { return false }
        return utf8.dropFirst().allSatisfy(isKeyCharacter)
    }

    /// Whether `value` is 1 to 256 characters of 0x20-0x7E except `,` and `=`, not ending in a space.
    public static func isValidValue(_ value: Substring) -> Bool {
        let utf8 = value.utf8
        guard let last = utf8.last, last != 0x20, utf8.count <= 256 else { return false }
        return utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
    }

    private static func capped(_ members: [Substring]) -> String {
        func length(_ members: [Substring]) -> Int {
            members.reduce(0) { $0 + $1.utf8.count } + max(0, members.count - 1)
        }
        var kept = members
        if length(kept) > maxPropagatedLength {
            // Long members first, from the right; then any, from the right.
            while length(kept) > maxPropagatedLength, let long = kept.lastIndex(where: { $0.utf8.count > longMemberLength }) {
                kept.remove(at: long)
            }
            while length(kept) > maxPropagatedLength { kept.removeLast() }
        }
        return kept.joined(separator: ",")
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }

    private static func isLowerAlpha(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isKeyCharacter(_ byte: UInt8) -> Bool {
        isLowerAlpha(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "*")
            || byte == UInt8(ascii: "/")
    }
}
