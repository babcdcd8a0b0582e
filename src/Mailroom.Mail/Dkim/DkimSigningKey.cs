using System.Security.Cryptography;
using Mailroom.Mail.Addresses;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// A <see cref="DkimKey"/> checked and loaded once: the domain and selector validated and the private key
/// imported into the platform <see cref="RSA"/> (OpenSSL on Linux). Immutable and safe to share between
/// threads; get instances from <see cref="DkimKeyCache"/> rather than loading per message.
/// </summary>
/// <remarks>
/// The RSA object is shared by every signature made with this key. On .NET's OpenSSL backend each
/// <c>SignHash</c> call makes its own EVP_PKEY_CTX over the shared, read-only EVP_PKEY, so concurrent
/// signing needs no lock; the test suite checks this (concurrent signatures equal the single-threaded
/// one, PKCS#1 v1.5 being deterministic). The key is not disposable: a cache entry may be in use on
/// another thread when evicted, so the native key is released by its finalizer.
/// </remarks>
public sealed class DkimSigningKey
{
    DkimSigningKey(string domain, string selector, RSA rsa, AsymmetricKeyParameter bouncyCastleKey)
    {
        Domain = domain;
        Selector = selector;
        Rsa = rsa;
        BouncyCastleKey = bouncyCastleKey;
        var parameters = rsa.ExportParameters(includePrivateParameters: true);
        perThread = new ThreadLocal<RSA>(() =>
        {
            var copy = RSA.Create();
            copy.ImportParameters(parameters);
            return copy;
        });
    }

    readonly ThreadLocal<RSA> perThread;

    /// <summary>The signing domain, the <c>d=</c> tag (RFC 6376 §3.5), lower case.</summary>
    public string Domain { get; }

    /// <summary>The selector, the <c>s=</c> tag (RFC 6376 §3.5).</summary>
    public string Selector { get; }

    /// <summary>Modulus size in bits.</summary>
    public int KeySizeBits => Rsa.KeySize;

    internal RSA Rsa { get; }

    /// <summary>
    /// This thread's own copy of the key, for signing: one <see cref="RSA"/> shared by the signing threads gave ~10 %
    /// fewer signatures per second on 2 threads than one each (OpenSSL's per-key blinding state is shared and locked).
    /// </summary>
    internal RSA ThreadRsa => perThread.Value!;

    /// <summary>The same key for MimeKit's <c>DkimSigner</c> constructor, which requires one; never used to sign.</summary>
    internal AsymmetricKeyParameter BouncyCastleKey { get; }

    /// <summary>
    /// Validates and loads a key. Throws <see cref="ArgumentException"/> (with the parameter name
    /// <c>Domain</c>, <c>Selector</c> or <c>PrivateKeyPem</c>) when a part is unusable.
    /// </summary>
    public static DkimSigningKey Load(DkimKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!EmailAddress.IsValidDomain(key.Domain))
            throw new ArgumentException($"'{key.Domain}' is not a valid DKIM signing domain.", nameof(DkimKey.Domain));
        if (!DkimSelector.IsValid(key.Selector))
            throw new ArgumentException($"'{key.Selector}' is not a valid DKIM selector (RFC 6376 §3.1).", nameof(DkimKey.Selector));

        var rsa = ImportPrivateKey(key.PrivateKeyPem, nameof(DkimKey.PrivateKeyPem));
        try
        {
            var bouncyCastleKey = DotNetUtilities.GetRsaKeyPair(rsa.ExportParameters(includePrivateParameters: true)).Private;
            return new DkimSigningKey(key.Domain.ToLowerInvariant(), key.Selector, rsa, bouncyCastleKey);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>Imports one unencrypted RSA private key PEM (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").</summary>
    internal static RSA ImportPrivateKey(string? pem, string paramName)
    {
        if (string.IsNullOrWhiteSpace(pem) || !PemEncoding.TryFind(pem, out var fields))
            throw new ArgumentException("The DKIM private key must be a PEM block.", paramName);
        var label = pem.AsSpan()[fields.Label];
        if (!label.SequenceEqual("PRIVATE KEY") && !label.SequenceEqual("RSA PRIVATE KEY"))
            throw new ArgumentException($"The DKIM private key PEM must be 'PRIVATE KEY' or 'RSA PRIVATE KEY', not '{label}'.", paramName);

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new ArgumentException("The DKIM private key PEM is not a readable RSA private key.", paramName, e);
        }
        if (rsa.KeySize < DkimKeyPair.MinimumKeySizeBits)
        {
            var size = rsa.KeySize;
            rsa.Dispose();
            throw new ArgumentException($"The DKIM key has {size} bits; at least {DkimKeyPair.MinimumKeySizeBits} are required (RFC 8301 §3.2).", paramName);
        }
        return rsa;
    }
}
