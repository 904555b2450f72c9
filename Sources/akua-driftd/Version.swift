import DriftCore

/// The text of `akua-driftd --version`: version, git revision, build date, Swift version (one per line).
enum AkuaDriftdVersionText {
    static let value = AkuaDriftdBuild.versionText
}
