import StellingCore
import StellingLWS

extension TransportOptions {
    /// The options a configuration file asks for: address, web root, limits, origins, TLS, caps.
    public init(configuration: Configuration, echoConformance: Bool = false) {
        let tls: TLSFiles? = if let certificate = configuration.tlsCertificate, let key = configuration.tlsPrivateKey {
            TLSFiles(certificatePath: certificate, privateKeyPath: key)
        } else {
            nil
        }
        self.init(host: configuration.host, port: configuration.port, webRoot: configuration.webRoot,
                  messageLimitBytes: configuration.limits.messageBytes, keepaliveSeconds: configuration.keepaliveSeconds,
                  outboundQueueLimitBytes: configuration.limits.outboundQueueBytes,
                  allowedOrigins: configuration.allowedOrigins, tls: tls,
                  maxConnections: configuration.limits.maxConnections,
                  maxConnectionsPerAddress: configuration.limits.maxConnectionsPerAddress,
                  echoConformance: echoConformance)
    }
}
