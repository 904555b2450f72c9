import DriftCore

enum AkuaDriftdVersionText {
    static let value = akuaDriftdVersion
}
