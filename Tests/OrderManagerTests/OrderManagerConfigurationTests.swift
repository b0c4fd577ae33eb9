import OrderManager
import Settings
import Testing

@Suite("Order manager configuration from the environment")
struct OrderManagerConfigurationTests {
    @Test("BATCH_MAX_ORDERS, BATCH_MAX_QUANTITY and BATCH_LINGER_MS over the defaults")
    func reads() throws {
        let configuration = try OrderManagerConfiguration.fromEnvironment(
            ["BATCH_MAX_ORDERS": "4", "BATCH_MAX_QUANTITY": "9000000000", "BATCH_LINGER_MS": "25"])
        #expect(configuration.limits.maxOrders == 4)
        #expect(configuration.limits.maxQuantity == 9_000_000_000)
        #expect(configuration.limits.linger == .milliseconds(25))
        #expect(try OrderManagerConfiguration.fromEnvironment(["BATCH_LINGER_MS": ""]).limits.linger == BatchLimits().linger)
    }

    @Test("a value that is not a positive whole number names the variable")
    func badValue() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try OrderManagerConfiguration.fromEnvironment(["BATCH_LINGER_MS": "soon"])
        }
        #expect(error.setting == "BATCH_LINGER_MS")
        #expect(error.code == .invalidValue)
    }
}
