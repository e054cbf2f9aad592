using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace HcToken.Tests
{
    /// <summary>
    /// A loopback HTTP server that gives every request the same canned answer: for the failures
    /// `hctoken serve` does not produce (an HTTP error without an OAuth body, a success without a token).
    /// </summary>
    internal sealed class CannedHttpServer : IDisposable
    {
        private const int MaxRequests = 20;
        private const int HeaderLimit = 64 * 1024;

        private readonly TcpListener listener;
        private readonly byte[] answer;
        private readonly Thread acceptor;

        internal CannedHttpServer(int status, string reason, string contentType, string body)
        {
            byte[] content = Encoding.UTF8.GetBytes(body);
            answer = Encoding.ASCII.GetBytes(
                "HTTP/1.1 " + status + " " + reason + "\r\n"
                + "Content-Type: " + contentType + "\r\n"
                + "Content-Length: " + content.Length + "\r\n"
                + "Connection: close\r\n\r\n");
            Array.Resize(ref answer, answer.Length + content.Length);
            Array.Copy(content, 0, answer, answer.Length - content.Length, content.Length);

            listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            acceptor = new Thread(Serve) { IsBackground = true };
            acceptor.Start();
        }

        internal string Url(string path)
        {
            return "http://127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port + path;
        }

        public void Dispose()
        {
            listener.Stop();
            acceptor.Join(5000);
        }

        private void Serve()
        {
            for (int served = 0; served < MaxRequests; served++)
            {
                TcpClient connection;
                try
                {
                    connection = listener.AcceptTcpClient();
                }
                catch (Exception)
                {
                    return; // Stopped.
                }

                using (connection)
                {
                    try
                    {
                        connection.ReceiveTimeout = 5000;
                        NetworkStream stream = connection.GetStream();
                        ReadRequest(stream);
                        stream.Write(answer, 0, answer.Length);
                    }
                    catch (IOException)
                    {
                        // The client gave up; the next one gets the answer.
                    }
                }
            }
        }

        // Reads the head and a Content-Length body, so closing the socket does not reset it under the client.
        private static void ReadRequest(NetworkStream stream)
        {
            var head = new StringBuilder();
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && head.Length < HeaderLimit)
            {
                int next = stream.ReadByte();
                if (next < 0)
                {
                    return;
                }

                head.Append((char)next);
            }

            int length = 0;
            foreach (string line in head.ToString().Split(new[] { "\r\n" }, StringSplitOptions.None))
            {
                if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
                {
                    length = int.Parse(line.Substring("content-length:".Length).Trim());
                }
            }

            var body = new byte[length];
            for (int read = 0; read < length;)
            {
                int count = stream.Read(body, read, length - read);
                if (count <= 0)
                {
                    return;
                }

                read += count;
            }
        }
    }
}
