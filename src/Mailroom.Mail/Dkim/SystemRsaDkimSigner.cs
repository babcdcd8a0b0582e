using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// MimeKit's <see cref="DkimSigner"/> (its header selection, relaxed/simple canonicalization of RFC 6376
/// §3.4 and DKIM-Signature layout) with the RSA step done by the platform <see cref="System.Security.Cryptography.RSA"/>
/// (OpenSSL) instead of BouncyCastle, which is an order of magnitude faster. Algorithm rsa-sha256,
/// canonicalization relaxed/relaxed. The <c>t=</c> tag (RFC 6376 §3.5) is the time given to the
/// constructor, not the clock.
/// </summary>
/// <remarks>Cheap to create: the costly part, the loaded key, is the shared <see cref="DkimSigningKey"/>. Make one per signing time (or per message).</remarks>
public sealed class SystemRsaDkimSigner : DkimSigner
{
    readonly DkimSigningKey key;
    readonly long timestamp;

    public SystemRsaDkimSigner(DkimSigningKey key, DateTimeOffset signingTime)
        : base((key ?? throw new ArgumentNullException(nameof(key))).BouncyCastleKey, key.Domain, key.Selector, DkimSignatureAlgorithm.RsaSha256)
    {
        this.key = key;
        timestamp = signingTime.ToUnixTimeSeconds();
        HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
    }

    /// <summary>The <c>t=</c> value: seconds since the Unix epoch of the signing time (RFC 6376 §3.5).</summary>
    protected override long GetTimestamp() => timestamp;

    /// <summary>SHA-256 through <c>IncrementalHash</c>, then <c>RSA.SignHash</c> with PKCS#1 v1.5 padding.</summary>
    protected override ISigner CreateSigningContext()
    {
        if (SignatureAlgorithm != DkimSignatureAlgorithm.RsaSha256)
            throw new NotSupportedException($"Only rsa-sha256 is supported, not {SignatureAlgorithm}.");
        return new RsaSha256HashSigner(key.ThreadRsa);
    }
}
