import StellingCore
import StellingLWS

extension TransportOptions {
    /// The options a configuration file asks for: the server's address, web root, origins,
    /// TLS and caps, and the room's message size, keep-alive and slow-reader limits.
    public init(settings: ServerSettings, configuration: Configuration, echoConformance: Bool = false) {
        let tls: TLSFiles? = if let certificate = settings.tlsCertificate, let key = settings.tlsPrivateKey {
            TLSFiles(certificatePath: certificate, privateKeyPath: key)
        } else {
            nil
        }
        self.init(host: settings.host, port: settings.port, webRoot: settings.webRoot,
                  messageLimitBytes: configuration.limits.messageBytes, keepaliveSeconds: configuration.keepaliveSeconds,
                  outboundQueueLimitBytes: configuration.limits.outboundQueueBytes,
                  allowedOrigins: settings.allowedOrigins, tls: tls,
                  maxConnections: settings.maxConnections,
                  maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
                  trustedProxies: (try? TrustedProxies(parsing: settings.trustedProxies)) ?? .loopback,
                  echoConformance: echoConformance, eventLoop: settings.eventLoop)
        reusePort = settings.cluster?.reusePort ?? false
    }
}
