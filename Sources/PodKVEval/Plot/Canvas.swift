import Foundation

/// An RGB colour.
public struct RGB: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let white = RGB(255, 255, 255)
    public static let black = RGB(0, 0, 0)
    public static let gray = RGB(128, 128, 128)

    /// Red (0) through yellow (0.5) to green (1), the usual needle-in-a-haystack scale.
    public static func redToGreen(_ t: Double) -> RGB {
        let x = max(0, min(1, t.isFinite ? t : 0))
        if x < 0.5 { return RGB(220, UInt8(40 + 380 * x), 40) }
        return RGB(UInt8(220 - 360 * (x - 0.5)), 230, UInt8(40 + 60 * (x - 0.5)))
    }

    /// Dark blue (0) to yellow (1), a perceptually ordered scale for similarity matrices.
    public static func viridisLike(_ t: Double) -> RGB {
        let x = max(0, min(1, t.isFinite ? t : 0))
        let stops: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let f = x * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(f))
        let u = f - Double(i)
        let a = stops[i], b = stops[i + 1]
        return RGB(UInt8(a.0 + (b.0 - a.0) * u), UInt8(a.1 + (b.1 - a.1) * u), UInt8(a.2 + (b.2 - a.2) * u))
    }
}

/// A raster to draw plots on, saved as PNG.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, w: width, h: height, background)
    }

    public mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    public mutating func fill(x: Int, y: Int, w: Int, h: Int, _ c: RGB) {
        // Clipped to the canvas: a rectangle partly or wholly outside draws only what is inside.
        let y0 = max(0, y), y1 = min(height, y + h), x0 = max(0, x), x1 = min(width, x + w)
        guard y0 < y1, x0 < x1 else { return }
        for yy in y0..<y1 { for xx in x0..<x1 { set(xx, yy, c) } }
    }

    /// A rectangle outline `thickness` pixels wide.
    public mutating func stroke(x: Int, y: Int, w: Int, h: Int, _ c: RGB, thickness: Int = 1) {
        fill(x: x, y: y, w: w, h: thickness, c)
        fill(x: x, y: y + h - thickness, w: w, h: thickness, c)
        fill(x: x, y: y, w: thickness, h: h, c)
        fill(x: x + w - thickness, y: y, w: thickness, h: h, c)
    }

    /// Draws `text` with the built-in 5x7 pixel font, `scale` pixels per font pixel, top-left at (x, y).
    public mutating func text(_ text: String, x: Int, y: Int, _ c: RGB = .black, scale: Int = 1) {
        var cx = x
        for ch in text.uppercased() {
            if let rows = PixelFont.glyphs[ch] {
                for (ry, bits) in rows.enumerated() {
                    for rx in 0..<5 where bits & (1 << (4 - rx)) != 0 {
                        fill(x: cx + rx * scale, y: y + ry * scale, w: scale, h: scale, c)
                    }
                }
            }
            cx += 6 * scale
        }
    }

    /// Width in pixels of `text` drawn at `scale`.
    public static func textWidth(_ text: String, scale: Int = 1) -> Int { text.count * 6 * scale }

    public func pngData() -> [UInt8] { PNGEncoder.encode(width: width, height: height, rgb: pixels) }

    /// Writes the PNG atomically.
    public func write(to path: String) throws {
        try Data(pngData()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
