import Algo
import Settings
import Testing

@Suite("Algo configuration from the environment")
struct AlgoConfigurationTests {
    @Test("ALGO_SLICES (at most 1,000 used) and ALGO_MIN_SLICE_QUANTITY over the defaults")
    func reads() throws {
        #expect(try AlgoConfiguration.fromEnvironment([:]) == AlgoConfiguration())
        let configuration = try AlgoConfiguration.fromEnvironment(
            ["ALGO_SLICES": "5000", "ALGO_MIN_SLICE_QUANTITY": "7", "ORDERTRACE_TOPIC_PREFIX": "t-"])
        #expect(configuration.slicing.slices == 1_000)
        #expect(configuration.slicing.minSliceQuantity == 7)
        #expect(configuration.topics.batches.hasPrefix("t-"))
    }

    @Test("a value that is not a positive whole number names the variable")
    func badValue() throws {
        let error = try #require(throws: ConfigurationError.self) { try AlgoConfiguration.fromEnvironment(["ALGO_SLICES": "0"]) }
        #expect(error.setting == "ALGO_SLICES")
    }
}
