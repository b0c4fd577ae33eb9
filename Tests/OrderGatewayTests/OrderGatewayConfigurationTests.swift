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

    @Test("with no token source and no ORDERTRACE_DEMO, the gateway does not start: the error names the settings and the remedy")
    func noTokens() throws {
        for environment in [[:], ["ORDERTRACE_DEMO": "0"]] as [[String: String]] {
            let error = try #require(throws: ConfigurationError.self) { try OrderGatewayConfiguration.fromEnvironment(environment) }
            #expect(error.setting == "ORDERTRACE_TOKENS / ORDERTRACE_TOKENS_FILE", "\(error)")
            #expect(error.code == .missing)
            #expect(error.description.contains("ORDERTRACE_DEMO=1"), "the remedy says how to ask for the demo tokens: \(error)")
        }
    }

    @Test("ORDERTRACE_DEMO=1 with no token source: the demo tokens, on a loopback address")
    func demo() throws {
        let configuration = try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_DEMO": "1"])
        #expect(configuration.tokens == ["demo-alice": "alice", "demo-bob": "bob", "demo-carol": "carol"])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        for host in ["localhost", "::1", "127.0.0.2"] {
            #expect(try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_DEMO": "1", "GATEWAY_HOST": host]).tokens.count == 3)
        }
    }

    @Test("ORDERTRACE_DEMO=1 on an address that is not loopback: refused, naming the setting and the remedy", arguments: [
        "0.0.0.0", "10.1.2.3", "::", "gateway.example.com",
    ])
    func demoNotLoopback(_ host: String) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try OrderGatewayConfiguration.fromEnvironment(["ORDERTRACE_DEMO": "1", "GATEWAY_HOST": host])
        }
        #expect(error.setting == "ORDERTRACE_DEMO", "\(error)")
        #expect(error.description.contains("not a loopback address"), "\(error)")
        #expect(error.description.contains("ORDERTRACE_TOKENS"), "\(error)")
    }

    @Test("explicit tokens win over ORDERTRACE_DEMO, on any address")
    func explicitTokensWithDemo() throws {
        let configuration = try OrderGatewayConfiguration.fromEnvironment(
            ["ORDERTRACE_DEMO": "1", "ORDERTRACE_TOKENS": "t-alice=alice", "GATEWAY_HOST": "0.0.0.0"])
        #expect(configuration.tokens == ["t-alice": "alice"])
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
