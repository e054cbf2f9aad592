using System;
using System.Runtime.InteropServices;
using System.Text;

namespace HcToken.Native
{
    /// <summary>
    /// UTF-8 text across the native boundary, done here rather than by the marshaler, whose default
    /// on .NET Framework is the ANSI code page. (Marshal.PtrToStringUTF8 is not in netstandard2.0.)
    /// </summary>
    internal static class Utf8Marshal
    {
        // Throws on lone surrogates instead of silently sending U+FFFD to the library.
        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, true);

        /// <summary>Encodes text as NUL-terminated UTF-8 for a <c>const char*</c> parameter.</summary>
        internal static byte[] ToNative(string text, string what)
        {
            if (text.IndexOf('\0') >= 0)
            {
                // The library would see only the part before the NUL: refuse rather than truncate.
                throw new ArgumentException(what + " must not contain a NUL character.");
            }

            byte[] bytes;
            try
            {
                bytes = new byte[StrictUtf8.GetByteCount(text) + 1];
                StrictUtf8.GetBytes(text, 0, text.Length, bytes, 0);
            }
            catch (EncoderFallbackException)
            {
                throw new ArgumentException(what + " is not valid Unicode text (it has a lone surrogate).");
            }

            return bytes;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string owned by the library; null for a null pointer.</summary>
        internal static string FromNative(IntPtr text)
        {
            if (text == IntPtr.Zero)
            {
                return null;
            }

            int length = 0;
            while (Marshal.ReadByte(text, length) != 0)
            {
                length++;
            }

            var bytes = new byte[length];
            Marshal.Copy(text, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
