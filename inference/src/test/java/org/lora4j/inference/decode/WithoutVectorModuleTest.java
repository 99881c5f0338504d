package org.lora4j.inference.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lora4j.inference.generate.GenerationConfig;
import org.lora4j.inference.generate.Generator;
import org.lora4j.inference.model.Decoder;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A JVM started without {@code --add-modules jdk.incubator.vector} still generates (through ND4J's path): Generator
 * and FastDecode must load without the module. The child's greedy tokens equal this JVM's fast-path tokens.
 */
class WithoutVectorModuleTest {
    @TempDir
    Path tmp;

    /** Child process: prints whether the module is present, then the greedy tokens of a fixed prompt. */
    public static void main(String[] args) throws Exception {
        Decoder d = DecodeFixtures.load(args[0], Path.of(args[1]), DataType.FLOAT);
        System.out.println("vector=" + FastDecode.vectorApiPresent());
        System.out.println("tokens=" + Arrays.toString(greedy(d)));
    }

    private static int[] greedy(Decoder d) {
        return new Generator(d).generate(List.of(new int[] {3, 1, 4, 1, 5}), GenerationConfig.greedy(12), null, null)
                .get(0).tokenIds();
    }

    @Test
    @Timeout(180)
    void generatesThroughNd4jWithoutTheModule() throws Exception {
        String model = "llama_gqa_llama3rope";
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                WithoutVectorModuleTest.class.getName(), model, tmp.toString());
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = readAll(p);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("vector=false"), out);
        String here = "tokens=" + Arrays.toString(greedy(DecodeFixtures.load(model, tmp, DataType.FLOAT)));
        assertTrue(out.contains(here), "expected " + here + " in the child's output:\n" + out);
    }

    private static String readAll(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
