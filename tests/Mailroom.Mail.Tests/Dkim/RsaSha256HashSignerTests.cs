using System.Security.Cryptography;
using Mailroom.Mail.Dkim;

namespace Mailroom.Mail.Tests.Dkim;

public class RsaSha256HashSignerTests
{
    static RSA Rsa()
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(Samples.Key.PrivateKeyPem);
        return rsa;
    }

    [Fact]
    public void SignatureIsPkcs1Sha256OfEverythingFedIn()
    {
        using var rsa = Rsa();
        var signer = new RsaSha256HashSigner(rsa);
        signer.Init(true, null!);
        signer.Update((byte)'a');
        signer.BlockUpdate("xbcx"u8.ToArray(), 1, 2);
        signer.BlockUpdate("def"u8);

        var signature = signer.GenerateSignature();
        Assert.Equal(256, signature.Length);
        Assert.Equal(256, signer.GetMaxSignatureSize());
        Assert.Equal(rsa.SignData("abcdef"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), signature);
    }

    [Fact]
    public void SignerStartsOverAfterASignatureOrReset()
    {
        using var rsa = Rsa();
        var signer = new RsaSha256HashSigner(rsa);
        signer.BlockUpdate("first"u8);
        signer.GenerateSignature();
        signer.BlockUpdate("junk"u8);
        signer.Reset();
        signer.BlockUpdate("second"u8);
        Assert.Equal(rsa.SignData("second"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), signer.GenerateSignature());

        var signature = rsa.SignData("check"u8.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        signer.BlockUpdate("check"u8);
        Assert.True(signer.VerifySignature(signature));
    }

    [Fact]
    public void VerificationModeIsNotOffered()
    {
        using var rsa = Rsa();
        Assert.Throws<NotSupportedException>(() => new RsaSha256HashSigner(rsa).Init(false, null!));
    }

    [Fact]
    public void SharedRsaSignsConcurrently()
    {
        using var rsa = Rsa();
        var digests = Enumerable.Range(0, 64).Select(i => SHA256.HashData(BitConverter.GetBytes(i))).ToArray();
        var expected = digests.Select(d => rsa.SignHash(d, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)).ToArray();
        var actual = new byte[8][][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
            actual[t] = digests.Select(d => rsa.SignHash(d, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)).ToArray());
        Assert.All(actual, signatures => Assert.Equal(expected, signatures));
    }
}
