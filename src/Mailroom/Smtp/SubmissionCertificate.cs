using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mailroom.Smtp;

/// <summary>
/// The certificate STARTTLS presents (RFC 3207). A configured file: PEM holding the certificate (chain) and its
/// private key, or PKCS#12 (.pfx/.p12), each optionally password-protected. Without one, a self-signed
/// certificate is made at first start and kept in the data folder (<c>smtp-certificate.pem</c>, mode 0600), so
/// clients that pin it keep working across restarts; it is made again once expired.
/// </summary>
internal static class SubmissionCertificate
{
    public const string GeneratedFileName = "smtp-certificate.pem";

    public static X509Certificate2 Load(string? path, string? password, string dataDirectory, string serverName, ILogger log)
    {
        if (!string.IsNullOrWhiteSpace(path))
            return Usable(LoadFile(path, password));
        var generated = Path.Combine(dataDirectory, GeneratedFileName);
        if (File.Exists(generated))
        {
            var existing = X509Certificate2.CreateFromPemFile(generated);
            if (existing.NotAfter > DateTime.UtcNow.AddDays(1))
                return Usable(existing);
            log.LogInformation("The generated SMTP certificate in {Path} expired; making a new one", generated);
        }
        var made = SelfSigned(serverName);
        WritePem(generated, made);
        log.LogInformation("Made a self-signed SMTP certificate for {Name} in {Path}; configure --smtp-certificate for a trusted one", serverName, generated);
        return Usable(made);
    }

    private static X509Certificate2 LoadFile(string path, string? password)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension is ".pfx" or ".p12")
            return X509CertificateLoader.LoadPkcs12FromFile(path, password);
        return string.IsNullOrEmpty(password)
            ? X509Certificate2.CreateFromPemFile(path)
            : X509Certificate2.CreateFromEncryptedPemFile(path, password);
    }

    /// <summary>Re-imported through PKCS#12 so the private key is bound to the certificate for SslStream on every platform.</summary>
    private static X509Certificate2 Usable(X509Certificate2 certificate)
    {
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"The SMTP certificate '{certificate.Subject}' has no private key: give the key in the same PEM file, or use a PFX.");
        using (certificate)
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    /// <summary>ECDSA P-256: fast to make and to handshake with, and every TLS 1.2+ client takes it.</summary>
    private static X509Certificate2 SelfSigned(string serverName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={serverName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(serverName);
        if (serverName != "localhost")
            names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // serverAuth
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
    }

    private static void WritePem(string path, X509Certificate2 certificate)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var key = certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem();
        var pem = certificate.ExportCertificatePem() + "\n" + key + "\n";
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the private key: owner only
        using (var file = new FileStream(temp, options))
        using (var writer = new StreamWriter(file))
            writer.Write(pem);
        File.Move(temp, path, overwrite: true);
    }
}
