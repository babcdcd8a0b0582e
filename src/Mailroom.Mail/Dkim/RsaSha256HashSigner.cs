using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Mailroom.Mail.Dkim;

/// <summary>
/// A BouncyCastle <see cref="ISigner"/> that hashes with <see cref="IncrementalHash"/> (SHA-256) and signs
/// the digest with the platform <see cref="RSA"/> (RSASSA-PKCS1-v1_5, RFC 8017 §8.2, as RFC 6376 §3.3.1
/// requires for rsa-sha256). MimeKit feeds it the canonicalized header data; one instance serves one
/// signature and is not thread-safe, the shared <see cref="RSA"/> is.
/// </summary>
sealed class RsaSha256HashSigner : ISigner
{
    readonly RSA rsa;
    IncrementalHash? hash;

    public RsaSha256HashSigner(RSA rsa) => this.rsa = rsa;

    public string AlgorithmName => "SHA-256withRSA";

    IncrementalHash Hash => hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Nothing to set up: the key came with the constructor. Only signing is supported.</summary>
    public void Init(bool forSigning, ICipherParameters parameters)
    {
        if (!forSigning)
            throw new NotSupportedException("This signer only signs; verify with an RSA public key instead.");
        Reset();
    }

    public void Update(byte input) => Hash.AppendData(new ReadOnlySpan<byte>(in input));

    public void BlockUpdate(byte[] input, int inOff, int inLen) => Hash.AppendData(input, inOff, inLen);

    public void BlockUpdate(ReadOnlySpan<byte> input) => Hash.AppendData(input);

    public int GetMaxSignatureSize() => (rsa.KeySize + 7) / 8;

    public byte[] GenerateSignature()
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Finish(digest);
        return rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    public bool VerifySignature(byte[] signature)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        Finish(digest);
        return rsa.VerifyHash(digest, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    }

    public void Reset()
    {
        hash?.Dispose();
        hash = null;
    }

    void Finish(Span<byte> digest)
    {
        Hash.GetHashAndReset(digest);
        Reset();
    }
}
