/// The akua-driftd release version, sent in `User-Agent: akua-driftd/VERSION` by the API and webhook clients.
public let akuaDriftdVersion = "0.1.0"
