public import ServiceContextModule

/// The `ServiceContext` key under which ``Baggage`` travels with a task.
public enum BaggageKey: ServiceContextKey {
    /// Baggage is stored as a ``Baggage`` value.
    public typealias Value = Baggage

    /// `"baggage"`, the header name, used when the context is printed.
    public static var nameOverride: String? { "baggage" }
}

extension ServiceContext {
    /// The W3C baggage carried by this context, or `nil` when none was set.
    public var baggage: Baggage? {
        get { self[BaggageKey.self] }
        set { self[BaggageKey.self] = newValue }
    }

    /// This context with `entries` set on its baggage (each replaces every entry with its key;
    /// other entries and the context's other values are kept).
    public func settingBaggage(_ entries: KeyValuePairs<String, String>) -> ServiceContext {
        var context = self
        context.baggage = (baggage ?? Baggage()).setting(entries)
        return context
    }
}

extension Baggage {
    /// This baggage with `entries` set (each replaces every entry with its key; other entries are
    /// kept).
    public func setting(_ entries: KeyValuePairs<String, String>) -> Baggage {
        var baggage = self
        for (key, value) in entries {
            baggage[key] = value
        }
        return baggage
    }
}

extension Baggage {
    /// The baggage of `ServiceContext.current`, or empty baggage when there is no current context or it
    /// carries none.
    public static var current: Baggage {
        ServiceContext.current?.baggage ?? Baggage()
    }

    /// `ServiceContext.current` (or a top-level context) with `entries` set on its baggage.
    fileprivate static func contextSetting(_ entries: KeyValuePairs<String, String>) -> ServiceContext {
        (ServiceContext.current ?? .topLevel).settingBaggage(entries)
    }
}

/// Runs `operation` with `entries` set on the baggage of the current `ServiceContext`.
///
/// Each entry is set with the subscript's set semantics: it replaces every entry with its key, and other
/// entries, as well as the context's other values, are kept. When `entries` repeats a key, the last pair
/// wins. The previous context is current again once `operation` returns or throws, so nested calls
/// override the outer ones only inside the inner operation.
///
/// ```swift
/// withBaggage(["client.order_id": order.id]) {
///     producer.send(message)   // the injector writes the `baggage` header from `Baggage.current`
/// }
/// ```
public func withBaggage<T>(
    _ entries: KeyValuePairs<String, String>,
    _ operation: () throws -> T
) rethrows -> T {
    try ServiceContext.withValue(Baggage.contextSetting(entries), operation: operation)
}

/// Runs the asynchronous `operation` with `entries` set on the baggage of the current `ServiceContext`.
///
/// The same as the synchronous `withBaggage(_:_:)`, for asynchronous code: child tasks created inside
/// `operation` inherit the baggage, and the previous context is current again once it returns or throws.
/// `operation` runs on the caller's isolation.
public func withBaggage<T>(
    _ entries: KeyValuePairs<String, String>,
    isolation: isolated (any Actor)? = #isolation,
    _ operation: () async throws -> T
) async rethrows -> T {
    try await ServiceContext.withValue(Baggage.contextSetting(entries), isolation: isolation, operation: operation)
}
