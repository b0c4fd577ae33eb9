import Foundation
import Histogram

/// A latency percentile distribution as an SVG picture: percentile on a log scale of
/// 1/(1 - p) along x (0%, 90%, 99%, 99.9%, ...), milliseconds along y, one line per series,
/// and an optional dashed goal line. The way HdrHistogram's plotter draws it.
struct LatencyPlot {
    struct Point: Equatable {
        /// 0...100.
        var percentile: Double
        var milliseconds: Double
    }

    struct Series {
        var name: String
        var points: [Point]
    }

    var title: String
    var series: [Series]
    /// A horizontal dashed line, e.g. the p99 goal.
    var goalMilliseconds: Double?
    var goalLabel = "goal"
    var width = 800.0
    var height = 480.0

    /// The highest percentile shown: 99.999%.
    static let maxNines = 5.0

    /// The points of a histogram of microseconds, in milliseconds, up to 99.999%.
    static func points(_ histogram: Histogram<UInt64>) -> [Point] {
        guard histogram.totalCount > 0 else { return [] }
        var points: [Point] = []
        for value in histogram.percentiles(ticksPerHalfDistance: 5) {
            let percentile = min(value.percentileLevelIteratedTo, 100)
            guard nines(percentile) <= maxNines else { break }
            points.append(Point(percentile: percentile, milliseconds: Double(value.value) / 1_000))
        }
        points.append(Point(percentile: 100 - pow(10, 2 - maxNines), milliseconds: Double(histogram.max) / 1_000))
        return points
    }

    /// x of a percentile: log10(1 / (1 - p)), so 90% is 1, 99% is 2, 99.9% is 3.
    static func nines(_ percentile: Double) -> Double {
        let rest = 1 - percentile / 100
        return rest <= 0 ? .infinity : log10(1 / rest)
    }

    func svg() -> String {
        let left = 70.0, right = 40.0, top = 40.0, bottom = 60.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let highest = series.flatMap(\.points).map(\.milliseconds).max() ?? 1
        let yMax = Self.niceCeiling(max(highest, goalMilliseconds ?? 0, 0.001) * 1.05)
        func x(_ nines: Double) -> Double { left + plotWidth * min(nines, Self.maxNines) / Self.maxNines }
        func y(_ milliseconds: Double) -> Double { top + plotHeight * (1 - milliseconds / yMax) }
        func number(_ value: Double) -> String { String(format: "%.1f", value) }

        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(number(width / 2))" y="22" text-anchor="middle" font-size="15">\(Self.escape(title))</text>

            """
        // Grid and axes.
        let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        for (index, label) in labels.enumerated() {
            let position = x(Double(index))
            out += ##"<line x1="\##(number(position))" y1="\##(number(top))" x2="\##(number(position))" y2="\##(number(top + plotHeight))" stroke="#ddd"/>"## + "\n"
            out += ##"<text x="\##(number(position))" y="\##(number(top + plotHeight + 18))" text-anchor="middle">\##(label)</text>"## + "\n"
        }
        let step = yMax / 5
        for index in 0...5 {
            let value = step * Double(index)
            out += ##"<line x1="\##(number(left))" y1="\##(number(y(value)))" x2="\##(number(left + plotWidth))" y2="\##(number(y(value)))" stroke="#ddd"/>"## + "\n"
            out += ##"<text x="\##(number(left - 6))" y="\##(number(y(value) + 4))" text-anchor="end">\##(Self.format(value))</text>"## + "\n"
        }
        out += ##"<text x="\##(number(left + plotWidth / 2))" y="\##(number(height - 14))" text-anchor="middle">percentile</text>"## + "\n"
        out += ##"<text x="18" y="\##(number(top + plotHeight / 2))" text-anchor="middle" transform="rotate(-90 18 \##(number(top + plotHeight / 2)))">latency (ms)</text>"## + "\n"
        if let goalMilliseconds {
            out += ##"<line x1="\##(number(left))" y1="\##(number(y(goalMilliseconds)))" x2="\##(number(left + plotWidth))" y2="\##(number(y(goalMilliseconds)))" stroke="#c00" stroke-dasharray="6 4"/>"## + "\n"
            out += ##"<text x="\##(number(left + plotWidth - 4))" y="\##(number(y(goalMilliseconds) - 6))" text-anchor="end" fill="#c00">\##(Self.escape(goalLabel))</text>"## + "\n"
        }
        // The series and their legend.
        let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#000000"]
        for (index, series) in series.enumerated() {
            let color = colors[index % colors.count]
            let coordinates = series.points.map { "\(number(x(Self.nines($0.percentile)))),\(number(y($0.milliseconds)))" }
            out += ##"<polyline fill="none" stroke="\##(color)" stroke-width="2" points="\##(coordinates.joined(separator: " "))"/>"## + "\n"
            let legendY = top + 16 + Double(index) * 16
            out += ##"<line x1="\##(number(left + 12))" y1="\##(number(legendY - 4))" x2="\##(number(left + 32))" y2="\##(number(legendY - 4))" stroke="\##(color)" stroke-width="2"/>"## + "\n"
            out += ##"<text x="\##(number(left + 38))" y="\##(number(legendY))">\##(Self.escape(series.name))</text>"## + "\n"
        }
        out += "</svg>\n"
        return out
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, floor(log10(value)))
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * power >= value { return factor * power }
        return 10 * power
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(format: "%.0f", value) : String(format: "%g", value)
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
