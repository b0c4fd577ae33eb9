import Foundation
import OrderGateway
import Settings
import Testing

@Suite("Gateway configuration: tokens and address", .timeLimit(.minutes(2)))
struct OrderGatewayConfigurationTests {
    @Test("ORDERTRACE_TOKENS: token=user pairs separated by commas, spaces ignored")
    func inlineTokens() throws {
        let configuration = try OrderGatewayConfiguration.fromEnvironment(
            ["ORDERTRACE_TOKENS": "t-alice=alice, t-bob = bob,,", "GATEWAY_PORT": "0", "GATEWAY_HOST": "0.0.0.0"])
        #expect(configuration.tokens == ["t-alice": "alice", "t-bob": "bob"])
        #expect(configuration.port == 0)
        #expect(configuration.host == "0.0.0.0")
    }

    @Test("ORDERTRACE_TOKENS_FILE: 'token user' or 'token=user' lines, comments and blank lines skipped; merged with ORDERTRACE_TOKENS")
    func tokensFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UInt32.random(in: 0...UInt32.max))").path
        try "# gateway tokens\n\nt-alice alice\n  t-bob=bob  \n\tt-carol\tcarol\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_TOKENS_FILE": path, "ORDERTRACE_TOKENS": "t-dave=dave"])
        #expect(configuration.tokens == ["t-alice": "alice", "t-bob": "bob", "t-carol": "carol", "t-dave": "dave"])
    }

    @Test("with no token source, the demo tokens are used")
    func demoDefault() throws {
        let configuration = try OrderGatewayConfiguration.fromEnvironment([:])
        #expect(configuration.tokens == ["demo-alice": "alice", "demo-bob": "bob", "demo-carol": "carol"])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
    }

    @Test("bad settings throw an error that names the variable and the problem", arguments: [
        (["ORDERTRACE_TOKENS": "t-alice"], "ORDERTRACE_TOKENS entry 1: not of the form token=user"),
        (["ORDERTRACE_TOKENS": "t-alice=alice,=bob"], "entry 2: the token is empty"),
        (["ORDERTRACE_TOKENS": "t-alice="], "the user is empty"),
        (["ORDERTRACE_TOKENS": "t-x=alice,t-x=bob"], "a token is given for two users"),
        (["ORDERTRACE_TOKENS": ","], "name no token"),
        (["ORDERTRACE_TOKENS_FILE": "/nonexistent/tokens"], "cannot read '/nonexistent/tokens'"),
        (["GATEWAY_PORT": "http"], "GATEWAY_PORT: 'http' is not a port number"),
        (["GATEWAY_PORT": "70000"], "GATEWAY_PORT: '70000'"),
        (["GATEWAY_HOST": " "], "GATEWAY_HOST: the address is empty"),
    ] as [([String: String], String)])
    func badSettings(_ environment: [String: String], expected: String) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try OrderGatewayConfiguration.fromEnvironment(environment)
        }
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test("a tokens file line that is neither 'token user' nor 'token=user' is named by number")
    func badFileLine() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try OrderGatewayConfiguration.parseTokensFile("t-alice alice\nt-bob bob extra\n", source: "tokens.txt")
        }
        #expect(error.setting == "tokens.txt line 2", "\(error)")
        #expect(error.code == .invalidValue)
    }

    @Test("error messages never print a token")
    func tokensStaySecret() throws {
        let error = try #require(throws: ConfigurationError.self) {
            try OrderGatewayConfiguration.parseTokens("s3cr3t=alice,s3cr3t=bob")
        }
        #expect(!error.description.contains("s3cr3t"))
    }
}
