/// The needle-in-a-haystack picture: context length across, needle depth down (0% at the top), each
/// cell coloured red (missed) to green (found) by the mean score, with its value written in the cell,
/// a title, axis labels and a colour scale.
public enum NIAHHeatmap {
    /// Draws `score(length, depth)` (nil = not run) for the given axes.
    public static func draw(title: String, lengths: [Int], depths: [Double], score: (Int, Double) -> Double?) -> Canvas {
        let cellW = max(56, Canvas.textWidth(lengths.map(String.init).max { $0.count < $1.count } ?? "", scale: 2) + 12)
        let cellH = max(24, min(48, 360 / max(1, depths.count)))
        let left = 100, top = 56, right = 110, bottom = 64
        let gridW = cellW * lengths.count, gridH = cellH * depths.count
        let axis = "CONTEXT LENGTH (TOKENS)"
        let lh = max(gridH, 60)
        // Everything drawn stays inside the canvas (Canvas.fill does not clip regions wholly outside it).
        let width = max(left + gridW + right, Canvas.textWidth(title, scale: 2) + 40, left + Canvas.textWidth(axis, scale: 2) + 20)
        var c = Canvas(width: width, height: top + max(gridH, lh) + bottom)
        c.text(title, x: 20, y: 16, scale: 2)
        c.text("DEPTH %", x: 12, y: top - 14)
        for (row, d) in depths.enumerated() {
            let label = d == d.rounded() ? "\(Int(d))%" : "\(d)%"
            let y = top + row * cellH
            c.text(label, x: left - 10 - Canvas.textWidth(label, scale: 2), y: y + cellH / 2 - 7, scale: 2)
            for (col, l) in lengths.enumerated() {
                let x = left + col * cellW
                if let s = score(l, d) {
                    c.fill(x: x, y: y, w: cellW, h: cellH, RGB.redToGreen(s))
                    let v = String(format: "%.2f", s)
                    c.text(v, x: x + (cellW - Canvas.textWidth(v)) / 2, y: y + cellH / 2 - 3)
                } else {
                    c.fill(x: x, y: y, w: cellW, h: cellH, RGB(235, 235, 235))
                    c.text("-", x: x + cellW / 2 - 3, y: y + cellH / 2 - 3, .gray)
                }
                c.stroke(x: x, y: y, w: cellW + 1, h: cellH + 1, .white)
            }
        }
        for (col, l) in lengths.enumerated() {
            let label = String(l)
            c.text(label, x: left + col * cellW + (cellW - Canvas.textWidth(label, scale: 2)) / 2, y: top + gridH + 8, scale: 2)
        }
        c.text(axis, x: max(8, left + (gridW - Canvas.textWidth(axis, scale: 2)) / 2), y: top + gridH + 36, scale: 2)
        // Colour scale: 1 at the top, 0 at the bottom.
        let lx = left + gridW + 30
        for yy in 0..<lh { c.fill(x: lx, y: top + yy, w: 18, h: 1, RGB.redToGreen(1 - Double(yy) / Double(lh - 1))) }
        c.stroke(x: lx, y: top, w: 18, h: lh, .black)
        c.text("SCORE", x: lx - 4, y: top - 14)
        c.text("1.0", x: lx + 24, y: top)
        c.text("0.5", x: lx + 24, y: top + lh / 2 - 3)
        c.text("0.0", x: lx + 24, y: top + lh - 7)
        return c
    }
}

import Foundation
