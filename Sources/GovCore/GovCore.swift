/// Namespace for facts about the GovCore module itself.
public enum GovCore {
    /// Semantic version of the domain rules; bump it when a stored format (audit hash encoding, CSV columns) changes.
    public static let version = "0.1.0"
}
