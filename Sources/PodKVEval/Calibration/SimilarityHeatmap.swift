import PodKVCache

/// Draws a plan's layer x layer similarity matrices as heatmaps (POD.md §5; issue 3, item 4).
///
/// One panel for the mean over KV heads, then one per KV head with the plan's blocks of two or more
/// layers outlined in red (a diagonal cell with no outline is a block of one layer). Row i, column j is
/// 1 - JSD between layers i and j, layer 0 at the top left; colour runs dark blue (0) to yellow (1), as
/// on the scale bar at the right.
public enum SimilarityHeatmap {
    static let outline = RGB(235, 40, 40)

    /// Renders the plan's similarity matrices. Throws when the plan carries none (a uniform plan).
    public static func render(plan: PoDPlan) throws -> Canvas {
        guard let similarity = plan.similarity, let first = similarity.first, !first.isEmpty else {
            throw CalibrationError.invalidInput("the plan has no similarity matrices (only calibrated plans can be drawn)")
        }
        let L = first.count, H = similarity.count
        let mean = (0..<L).map { i in (0..<L).map { j in similarity.reduce(0) { $0 + $1[i][j] } / Double(H) } }
        let cell = max(4, min(16, 320 / L))
        let side = cell * L
        // Panel: title above, tick labels left and below, axis name under the ticks.
        let left = 30, top = 22, bottom = 30, gap = 24
        let panelW = left + side + gap, panelH = top + side + bottom
        let panels = 1 + H
        let columns = min(panels, 4)
        let rows = (panels + columns - 1) / columns
        let header = 34, scaleW = 80
        let delta = plan.settings["chosen-delta"] ?? plan.settings["delta"] ?? "-"
        let title = "PoD layer similarity (1 - JSD), \(plan.model.architecture), \(L) layers, delta \(delta)"
        // The canvas clips nothing for us: everything drawn must lie inside it, so the title picks a size
        // that fits the panels, and widens the canvas only if even the small size does not.
        let layoutWidth = columns * panelW + scaleW + 10
        let titleScale = Canvas.textWidth(title, scale: 2) + 20 <= layoutWidth ? 2 : 1
        var c = Canvas(width: max(layoutWidth, Canvas.textWidth(title, scale: titleScale) + 20), height: header + rows * panelH + 10)
        c.text(title, x: 10, y: 8, scale: titleScale)

        for p in 0..<panels {
            let x0 = 10 + (p % columns) * panelW + left
            let y0 = header + (p / columns) * panelH + top
            let matrix = p == 0 ? mean : similarity[p - 1]
            for i in 0..<L {
                for j in 0..<L {
                    c.fill(x: x0 + j * cell, y: y0 + i * cell, w: cell, h: cell, .viridisLike(matrix[i][j]))
                }
            }
            c.stroke(x: x0 - 1, y: y0 - 1, w: side + 2, h: side + 2, .gray)
            if p == 0 {
                c.text("mean of \(H) KV heads", x: x0, y: y0 - 12)
            } else {
                let blocks = plan.blocks(kvHead: p - 1)
                c.text("KV head \(p - 1): \(blocks.count) blocks", x: x0, y: y0 - 12)
                for b in blocks where b.count > 1 {
                    let t = cell >= 8 ? 2 : 1
                    c.stroke(x: x0 + b.lowerBound * cell, y: y0 + b.lowerBound * cell,
                             w: b.count * cell, h: b.count * cell, outline, thickness: t)
                }
            }
            let step = L <= 12 ? 1 : (L <= 40 ? 5 : 10)
            for l in stride(from: 0, to: L, by: step) {
                let label = String(l)
                let centre = l * cell + cell / 2
                c.text(label, x: x0 - 4 - Canvas.textWidth(label), y: y0 + centre - 3)
                c.text(label, x: x0 + centre - Canvas.textWidth(label) / 2, y: y0 + side + 4)
            }
            c.text("layer", x: x0 + side / 2 - 15, y: y0 + side + 16)
        }

        // Colour scale.
        let sx = c.width - scaleW, sy = header + top, sh = min(200, rows * panelH - top - bottom)
        for y in 0..<sh { c.fill(x: sx, y: sy + y, w: 14, h: 1, .viridisLike(1 - Double(y) / Double(sh - 1))) }
        c.stroke(x: sx - 1, y: sy - 1, w: 16, h: sh + 2, .gray)
        for (v, label) in [(1.0, "1.0"), (0.5, "0.5"), (0.0, "0.0")] {
            c.text(label, x: sx + 20, y: sy + Int((1 - v) * Double(sh - 1)) - 3)
        }
        c.text("1-JSD", x: sx - 4, y: sy + sh + 8)
        return c
    }
}
