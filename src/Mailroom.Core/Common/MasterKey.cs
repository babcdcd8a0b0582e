using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Mailroom.Core;

/// <summary>
/// The key-encryption key of the Data Protection key ring: 256 random bits that encrypt every Data Protection key
/// before it is written (and so, through those keys, the stored API tokens and DKIM private keys). It comes from
/// <c>MAILROOM_MASTER_KEY</c> (base64), else from a file (<c>--master-key-file</c>, default <c>master.key</c> in
/// the data folder, made with mode 0600 at first start). Kept apart from the data folder (an environment variable
/// or a file on another volume), a copy of the data folder or of the database alone reveals no secret.
/// </summary>
public sealed class MasterKey
{
    public const int Length = 32;

    private readonly byte[] _key;

    /// <summary>Where the key came from, for logs and errors (never the key).</summary>
    public string Source { get; }

    private MasterKey(byte[] key, string source)
    {
        if (key.Length != Length)
            throw new InvalidOperationException($"The master key from {source} must be {Length} bytes ({Length * 8} bits), base64; it is {key.Length} bytes.");
        _key = key;
        Source = source;
    }

    /// <summary>From base64 text (the environment variable).</summary>
    public static MasterKey FromBase64(string base64, string source)
    {
        try
        {
            return new MasterKey(Convert.FromBase64String(base64.Trim()), source);
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The master key from {source} is not base64.");
        }
    }

    /// <summary>Reads the key file, or makes it (random, mode 0600) when it does not exist yet.</summary>
    public static MasterKey FromFile(string path, out bool created)
    {
        created = false;
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(Length);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                using (var file = new FileStream(path, options))
                using (var writer = new StreamWriter(file))
                    writer.WriteLine(Convert.ToBase64String(fresh));
                created = true;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made it first: read theirs.
            }
        }
        return FromBase64(File.ReadAllText(path), path);
    }

    internal XElement Encrypt(XElement plaintext)
    {
        var clear = System.Text.Encoding.UTF8.GetBytes(plaintext.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var cipher = new byte[clear.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(_key, tag.Length))
            aes.Encrypt(nonce, clear, cipher, tag, AssociatedData);
        return new XElement("encryptedKey",
            new XComment(" Encrypted with Mailroom's master key (AES-256-GCM). "),
            new XElement("nonce", Convert.ToBase64String(nonce)),
            new XElement("value", Convert.ToBase64String(cipher)),
            new XElement("tag", Convert.ToBase64String(tag)));
    }

    internal XElement Decrypt(XElement encrypted)
    {
        var nonce = Convert.FromBase64String((string?)encrypted.Element("nonce") ?? "");
        var cipher = Convert.FromBase64String((string?)encrypted.Element("value") ?? "");
        var tag = Convert.FromBase64String((string?)encrypted.Element("tag") ?? "");
        var clear = new byte[cipher.Length];
        try
        {
            using var aes = new AesGcm(_key, tag.Length);
            aes.Decrypt(nonce, cipher, tag, clear, AssociatedData);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new CryptographicException(
                $"A Data Protection key cannot be decrypted with the master key from {Source}: the store was made with another master key. " +
                "Start Mailroom with the master key it was made with (MAILROOM_MASTER_KEY or --master-key-file).");
        }
        return XElement.Parse(System.Text.Encoding.UTF8.GetString(clear));
    }

    private static readonly byte[] AssociatedData = "Mailroom.DataProtection.KeyRing.v1"u8.ToArray();
}

/// <summary>Encrypts each new Data Protection key with the <see cref="MasterKey"/> before it is stored.</summary>
public sealed class MasterKeyXmlEncryptor(MasterKey key) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
        new(key.Encrypt(plaintextElement), typeof(MasterKeyXmlDecryptor));
}

/// <summary>Decrypts stored keys; Data Protection creates it by type name with the service provider.</summary>
public sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) => services.GetRequiredService<MasterKey>().Decrypt(encryptedElement);
}
