using System.Text;

namespace Incrt.Tests.Build;

/// <summary>Builds a minimal ELF64 file holding only a .dynstr and a .gnu.version_r section.</summary>
internal static class ElfFixture
{
    /// <param name="versions">Names of the Vernaux entries (all under one Verneed for libstdc++.so.6).</param>
    /// <param name="flags">vna_flags for each entry.</param>
    public static byte[] Build(string[] versions, ushort[] flags)
    {
        var strtab = new List<byte> { 0 };
        int AddString(string s) { int at = strtab.Count; strtab.AddRange(Encoding.ASCII.GetBytes(s)); strtab.Add(0); return at; }
        int file = AddString("libstdc++.so.6");
        var names = versions.Select(AddString).ToArray();

        var verneed = new List<byte>();
        void U16(List<byte> l, int v) => l.AddRange(BitConverter.GetBytes((ushort)v));
        void U32(List<byte> l, long v) => l.AddRange(BitConverter.GetBytes((uint)v));
        U16(verneed, 1); U16(verneed, versions.Length); U32(verneed, file); U32(verneed, 16); U32(verneed, 0);
        for (int i = 0; i < versions.Length; i++)
        {
            U32(verneed, 0x1234 + i); U16(verneed, flags[i]); U16(verneed, 2 + i); U32(verneed, names[i]);
            U32(verneed, i == versions.Length - 1 ? 0 : 16);
        }

        const int header = 64;
        int strOff = header, vnOff = strOff + strtab.Count;
        int shoff = (vnOff + verneed.Count + 7) / 8 * 8;
        var bytes = new byte[shoff + 3 * 64];
        bytes[0] = 0x7f; bytes[1] = (byte)'E'; bytes[2] = (byte)'L'; bytes[3] = (byte)'F'; bytes[4] = 2; bytes[5] = 1; bytes[6] = 1;
        BitConverter.GetBytes((ulong)shoff).CopyTo(bytes, 0x28);
        BitConverter.GetBytes((ushort)64).CopyTo(bytes, 0x3A);
        BitConverter.GetBytes((ushort)3).CopyTo(bytes, 0x3C);
        strtab.CopyTo(bytes, strOff);
        verneed.CopyTo(bytes, vnOff);
        void Section(int index, uint type, int off, int size, int link, int info)
        {
            int at = shoff + index * 64;
            BitConverter.GetBytes(type).CopyTo(bytes, at + 4);
            BitConverter.GetBytes((ulong)off).CopyTo(bytes, at + 0x18);
            BitConverter.GetBytes((ulong)size).CopyTo(bytes, at + 0x20);
            BitConverter.GetBytes((uint)link).CopyTo(bytes, at + 0x28);
            BitConverter.GetBytes((uint)info).CopyTo(bytes, at + 0x2C);
        }
        Section(1, 3, strOff, strtab.Count, 0, 0);                 // SHT_STRTAB
        Section(2, 0x6ffffffe, vnOff, verneed.Count, 1, 1);        // SHT_GNU_verneed, 1 entry
        return bytes;
    }
}
