import Foundation

/// The adaptation loss curve as CSV (`step,train_loss,validation_loss,seconds`) and as a PNG line chart
/// (training loss in blue, held-out loss in orange, dashed grey lines for the training-free baselines).
public enum LossCurve {
    public static func csv(_ curve: [AdaptationCurvePoint]) -> String {
        var out = "step,train_loss,validation_loss,seconds\n"
        for p in curve {
            out += "\(p.step),\(String(format: "%.6f", p.trainLoss)),\(p.validationLoss.map { String(format: "%.6f", $0) } ?? ""),\(String(format: "%.1f", p.seconds))\n"
        }
        return out
    }

    /// Draws the curve; `baselines` are horizontal reference levels (label, relative loss).
    public static func draw(title: String, curve: [AdaptationCurvePoint], baselines: [(String, Double)]) -> Canvas {
        let width = 720, height = 420
        let left = 70, right = 20, top = 50, bottom = 50
        var c = Canvas(width: width, height: height)
        c.text(title, x: 16, y: 14, scale: 2)
        let plotW = width - left - right, plotH = height - top - bottom
        let steps = max(1, curve.map(\.step).max() ?? 1)
        let values = curve.map(\.trainLoss) + curve.compactMap(\.validationLoss) + baselines.map(\.1)
        let top_ = max(1e-6, (values.filter(\.isFinite).max() ?? 1) * 1.05)
        func x(_ step: Int) -> Int { left + Int(Double(step) / Double(steps) * Double(plotW)) }
        func y(_ v: Double) -> Int { top + plotH - Int(min(max(v / top_, 0), 1) * Double(plotH)) }
        c.stroke(x: left, y: top, w: plotW + 1, h: plotH + 1, .black)
        for k in 0...4 {
            let v = top_ * Double(k) / 4
            let label = String(format: "%.3f", v)
            c.text(label, x: left - 6 - Canvas.textWidth(label), y: y(v) - 3)
            c.fill(x: left - 3, y: y(v), w: 3, h: 1, .black)
        }
        c.text("0", x: left - 3, y: top + plotH + 8)
        c.text("\(steps)", x: left + plotW - Canvas.textWidth("\(steps)"), y: top + plotH + 8)
        c.text("STEP", x: left + plotW / 2 - 12, y: top + plotH + 24)
        c.text("RELATIVE LOSS", x: 8, y: top - 14)
        for (label, v) in baselines {
            var xx = left
            while xx < left + plotW { c.fill(x: xx, y: y(v), w: 6, h: 1, RGB(150, 150, 150)); xx += 10 }
            c.text(label, x: left + plotW - Canvas.textWidth(label) - 4, y: y(v) - 10, RGB(110, 110, 110))
        }
        let blue = RGB(40, 90, 200), orange = RGB(230, 120, 20)
        line(&c, curve.map { (x($0.step), y($0.trainLoss)) }, blue)
        line(&c, curve.compactMap { p in p.validationLoss.map { (x(p.step), y($0)) } }, orange, thick: true)
        c.text("TRAIN", x: left + 10, y: top + 8, blue)
        c.text("HELD-OUT", x: left + 60, y: top + 8, orange)
        return c
    }

    private static func line(_ c: inout Canvas, _ points: [(Int, Int)], _ color: RGB, thick: Bool = false) {
        guard points.count > 1 else {
            if let p = points.first { c.fill(x: p.0 - 2, y: p.1 - 2, w: 5, h: 5, color) }
            return
        }
        for (a, b) in zip(points, points.dropFirst()) {
            let n = max(abs(b.0 - a.0), abs(b.1 - a.1), 1)
            for i in 0...n {
                let px = a.0 + (b.0 - a.0) * i / n, py = a.1 + (b.1 - a.1) * i / n
                c.fill(x: px, y: py, w: thick ? 2 : 1, h: thick ? 2 : 1, color)
            }
        }
    }
}
