using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace FileAio.Package.Tests.Infrastructure;

/// <summary>What a portable PDB says about itself and its sources, read with System.Reflection.Metadata: its id, and
/// for each source document the text embedded in it (null when the PDB only names the file).</summary>
internal static class PortablePdb
{
    /// <summary>The kind of custom debug information that holds a document's source (the Portable PDB spec's
    /// "Embedded Source", 0E8A571B-6926-466E-B4AD-8AB04611F5FE).</summary>
    private static readonly Guid s_embeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    /// <summary>The id the PDB carries (the first 16 bytes of its PDB id).</summary>
    public static Guid Id(byte[] pdb)
    {
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbImage([.. pdb]);
        return new Guid(provider.GetMetadataReader().DebugMetadataHeader!.Id.AsSpan(0, 16));
    }

    /// <summary>The PDB id that <paramref name="dll"/>'s CodeView debug entry asks for.</summary>
    public static Guid IdWantedBy(byte[] dll)
    {
        using var pe = new PEReader([.. dll]);
        DebugDirectoryEntry codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
        return pe.ReadCodeViewDebugDirectoryData(codeView).Guid;
    }

    public static IReadOnlyDictionary<string, string?> Sources(byte[] pdb)
    {
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbImage([.. pdb]);
        MetadataReader reader = provider.GetMetadataReader();
        var sources = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DocumentHandle handle in reader.Documents)
        {
            string name = reader.GetString(reader.GetDocument(handle).Name);
            sources[name] = reader.GetCustomDebugInformation(handle)
                .Select(reader.GetCustomDebugInformation)
                .Where(info => reader.GetGuid(info.Kind) == s_embeddedSource)
                .Select(info => Decode(reader.GetBlobBytes(info.Value)))
                .FirstOrDefault();
        }
        return sources;
    }

    /// <summary>An embedded-source blob: an int32 format (0 = stored as is, else the size it deflates to) followed by
    /// the text's bytes, deflated when the format is not 0.</summary>
    private static string Decode(byte[] blob)
    {
        int format = BitConverter.ToInt32(blob, 0);
        Stream content = new MemoryStream(blob, 4, blob.Length - 4);
        if (format != 0)
        {
            content = new DeflateStream(content, CompressionMode.Decompress);
        }
        using var text = new StreamReader(content, detectEncodingFromByteOrderMarks: true);
        return text.ReadToEnd();
    }
}
