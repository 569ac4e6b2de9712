package esimgwinterop;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JAX-WS RI (Metro) as an SM-SR and as a notifier, built by wsimport from the repository's WSDLs.
 *
 * <pre>
 *   java esimgwinterop.Peer CONFIG server   an SM-SR from wsdl/ES4_SmSr.wsdl that the es4 client calls
 *   java esimgwinterop.Peer CONFIG notify   post ES4 and ES2 notifications to esimgw's CallbackServer
 * </pre>
 *
 * Every line on stdout is one JSON event (see interop.Event in Go).
 */
public final class Peer {
    static Map<String, String> cfg;

    public static void main(String[] args) throws Exception {
        cfg = readConfig(args[0]);
        try {
            switch (args[1]) {
                case "server":
                    SmSrServer.run();
                    break;
                case "notify":
                    Notifier.run();
                    break;
                default:
                    throw new IllegalArgumentException("mode " + args[1]);
            }
        } catch (Exception e) {
            emit("error", null, null, Map.of("error", e.toString()));
            e.printStackTrace();
            System.exit(1);
        }
    }

    /** The configuration is flat JSON with string values: a regular expression reads it. */
    static Map<String, String> readConfig(String path) throws Exception {
        String s = new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8);
        Map<String, String> m = new LinkedHashMap<>();
        Matcher mt = Pattern.compile("\"([a-z0-9_]+)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(s);
        while (mt.find()) {
            m.put(mt.group(1), mt.group(2).replace("\\u0026", "&").replace("\\/", "/"));
        }
        return m;
    }

    static synchronized void emit(String event, String check, String url, Map<String, ?> values) {
        StringBuilder b = new StringBuilder("{\"event\":").append(q(event)).append(",\"peer\":\"jaxws\"");
        if (check != null) b.append(",\"check\":").append(q(check));
        if (url != null) b.append(",\"url\":").append(q(url));
        if (values != null && values.containsKey("error")) {
            b.append(",\"error\":").append(q(String.valueOf(values.get("error"))));
        } else if (values != null) {
            b.append(",\"values\":{");
            String sep = "";
            for (Map.Entry<String, ?> e : values.entrySet()) {
                b.append(sep).append(q(e.getKey())).append(':').append(e.getValue() == null ? "null" : q(String.valueOf(e.getValue())));
                sep = ",";
            }
            b.append('}');
        }
        System.out.println(b.append('}'));
        System.out.flush();
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    /** An SSL context with the PEM certificate and PKCS#8 key, trusting only the PEM CA. */
    static SSLContext tls(String certPath, String keyPath) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        X509Certificate cert = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(Paths.get(certPath))));
        X509Certificate ca = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(Paths.get(cfg.get("ca")))));
        String pem = new String(Files.readAllBytes(Paths.get(keyPath)), StandardCharsets.US_ASCII)
                .replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
        char[] pw = "interop".toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("me", key, pw, new Certificate[] {cert});
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        ts.setCertificateEntry("ca", ca);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    static String hex(byte[] b) {
        return b == null ? null : javax.xml.bind.DatatypeConverter.printHexBinary(b);
    }

    private Peer() {}
}
