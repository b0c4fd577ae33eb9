import Foundation
import KafkaTestSupport
import TestSupport
import Testing

/// The explorer's page as a person sees it: headless Chromium, the DOM after its scripts ran, and
/// a screenshot kept in `test-output/`.
@Suite(.timeLimit(.minutes(5)))
struct ExplorerUITests {
    static func count(_ pattern: String, in text: String) -> Int {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.numberOfMatches(in: text, range: NSRange(text.startIndex..., in: text))
    }

    @Test(.enabled(if: Chromium.isAvailable, "Chromium is not installed (make test installs it)"))
    func anOrdersPageShowsTheGraphTheTimelineAndItsCompleteness() async throws {
        try await withScenarioExplorer { explorer, scenario in
            let url = "\(explorer.uiURL)/#id=o-1"
            let dom = try await offThePool { try Chromium.dumpDOM(url: url, virtualTimeBudgetMS: 10_000) }
            let loadedSpans = scenario.batches.flatMap(\.spans).filter { $0.traceID == scenario.orderTrace1 || $0.traceID == scenario.batchTrace }.count
            // The graph: a box per span of the order trace and the batch trace.
            #expect(Self.count(#"<g [^>]*class="span[ "][^>]*>"#, in: dom) == loadedSpans)
            #expect(dom.contains("data-trace-id=\"\(scenario.orderTrace1.hex)\""))
            #expect(dom.contains("data-trace-id=\"\(scenario.batchTrace.hex)\""))
            // Link edges drawn apart from parent edges, with their roles.
            #expect(Self.count(#"class="edge edge-parent"#, in: dom) > 20)
            #expect(Self.count(#"class="edge edge-link"#, in: dom) >= 6)
            #expect(dom.contains("data-role=\"batched into\""))
            #expect(dom.contains("data-role=\"allocated to\""))
            // The member whose spans never arrived is marked.
            #expect(Self.count(#"<g [^>]*class="missing"#, in: dom) >= 1)
            // The timeline: a row per span.
            #expect(Self.count(#"class="timeline-row"#, in: dom) == loadedSpans)
            // Completeness: o-1 complete, o-3 not.
            #expect(Self.count(#"class="order-status"[^>]*data-order-id="o-1"[^>]*data-complete="true""#, in: dom) == 1)
            #expect(Self.count(#"class="order-status"[^>]*data-order-id="o-3"[^>]*data-complete="false""#, in: dom) == 1)
            // Recent orders in the sidebar.
            #expect(Self.count(#"class="order-item[^"]*"[^>]*data-order-id="o-2""#, in: dom) == 1)

            let screenshot = testOutputFolder().appendingPathComponent("explorer-order-o-1.png")
            try? FileManager.default.removeItem(at: screenshot)
            try await offThePool { try Chromium.screenshot(url: url, to: screenshot.path, width: 1600, height: 1100, virtualTimeBudgetMS: 10_000) }
            let size = (try FileManager.default.attributesOfItem(atPath: screenshot.path)[.size] as? NSNumber)?.intValue ?? 0
            #expect(size > 20_000)
        }
    }

    @Test(.enabled(if: Chromium.isAvailable, "Chromium is not installed (make test installs it)"))
    func theStartPageListsRecentOrdersAndAnUnknownIDSaysSo() async throws {
        try await withScenarioExplorer { explorer, _ in
            let start = try await offThePool { try Chromium.dumpDOM(url: explorer.uiURL + "/", virtualTimeBudgetMS: 10_000) }
            #expect(Self.count(#"class="order-item"#, in: start) == 2)
            let screenshot = testOutputFolder().appendingPathComponent("explorer-start.png")
            try? FileManager.default.removeItem(at: screenshot)
            try await offThePool { try Chromium.screenshot(url: explorer.uiURL + "/", to: screenshot.path, virtualTimeBudgetMS: 10_000) }

            let unknown = try await offThePool { try Chromium.dumpDOM(url: explorer.uiURL + "/#id=no-such-order", virtualTimeBudgetMS: 10_000) }
            #expect(unknown.contains("Nothing found for"))
        }
    }
}
