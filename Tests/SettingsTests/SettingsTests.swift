import Settings
import Testing

@Suite("Settings: the configuration error and environment parsing every configuration shares")
struct SettingsTests {
    @Test("the message names the setting, the problem and what to do")
    func message() {
        let error = ConfigurationError(setting: "BATCH_LINGER_MS", problem: "\"soon\" is not a positive whole number", remedy: "set it to one")
        #expect(error.message == "BATCH_LINGER_MS: \"soon\" is not a positive whole number; set it to one")
        #expect(error.description == error.message)
        #expect(error.code == .invalidValue)
        #expect(ConfigurationError(.missing, setting: "X", problem: "names nothing").message == "X: names nothing")
    }

    @Test("unset and empty variables mean the default")
    func unsetAndEmpty() throws {
        let reader = EnvironmentReader(["EMPTY": ""])
        #expect(reader.string("EMPTY") == nil)
        #expect(reader.string("UNSET") == nil)
        #expect(try reader.positiveInteger("EMPTY") == nil)
        #expect(try reader.milliseconds("UNSET") == nil)
    }

    @Test("positive whole numbers and milliseconds are read; anything else names the variable")
    func numbers() throws {
        let reader = EnvironmentReader(["N": "42", "MS": "250", "ZERO": "0", "WORD": "lots", "BIG": "9999999999"])
        #expect(try reader.positiveInteger("N") == 42)
        #expect(try reader.positiveInteger("BIG", as: Int64.self) == 9_999_999_999)
        #expect(try reader.milliseconds("MS") == .milliseconds(250))
        for name in ["ZERO", "WORD"] {
            let error = try #require(throws: ConfigurationError.self) { try reader.positiveInteger(name) }
            #expect(error.setting == name)
            #expect(error.code == .invalidValue)
            #expect(error.message.contains("is not a positive whole number"))
        }
        #expect(throws: ConfigurationError.self) { try reader.positiveInteger("BIG", as: Int32.self) }
    }
}
