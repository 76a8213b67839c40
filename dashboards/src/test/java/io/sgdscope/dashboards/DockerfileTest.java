package io.sgdscope.dashboards;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The images can be built: each Dockerfile's build stage copies every module that the module it builds
 * ({@code -pl}) needs, following the POMs' io.sgdscope dependencies of every scope ({@code -am} builds them
 * all), and the POM of every other module of the root POM. A new module that the jar needs and a Dockerfile
 * forgets fails here. No Docker engine runs here: this reads the files, it does not build the images.
 */
class DockerfileTest {

    private static final Path TOP = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern BUILT_MODULE = Pattern.compile("\\./mvnw\\b.*\\s-pl\\s+(\\S+)");

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile", "trainer/Dockerfile.cuda"})
    void theBuildStageCopiesEveryModuleTheJarNeeds(String dockerfile) throws Exception {
        List<String> lines = instructions(TOP.resolve(dockerfile));
        Set<String> copied = copiedSources(lines);
        String built = lines.stream().map(BUILT_MODULE::matcher).filter(Matcher::find).map(m -> m.group(1))
                .findFirst().orElseThrow(() -> new AssertionError(dockerfile + " has no ./mvnw ... -pl MODULE line"));

        for (String file : List.of("pom.xml", "mvnw", ".mvn")) {
            assertTrue(covers(copied, file), dockerfile + " does not COPY " + file);
        }
        Map<String, Module> modules = rootModules();
        assertTrue(modules.containsKey(built), dockerfile + " builds " + built + ", not a module of the root pom.xml");
        Set<String> needed = needed(built, modules);
        for (String module : modules.keySet()) {
            if (needed.contains(module)) {
                assertTrue(covers(copied, module + "/"),
                        dockerfile + " does not COPY " + module + "/, which " + built + " needs (see the POMs' dependencies)");
            } else {
                assertTrue(covers(copied, module + "/pom.xml"),
                        dockerfile + " does not COPY " + module + "/pom.xml (Maven reads every module of the root pom.xml)");
            }
        }
        boolean testJar = needed.stream().anyMatch(module -> modules.get(module).dependsOnATestJar);
        boolean skipsTestJars = lines.stream().anyMatch(line -> line.contains("-Dmaven.test.skip"));
        assertFalse(testJar && skipsTestJars, dockerfile + ": -Dmaven.test.skip leaves the test jars that "
                + built + "'s modules depend on unbuilt, and the build fails; use -DskipTests");
    }

    @Test
    void theStreamsStateFolderExistsInTheImageOwnedByItsUser() throws Exception {
        JsonNode streams = new ObjectMapper(new YAMLFactory()).readTree(TOP.resolve("docker-compose.yml").toFile())
                .path("services").path("streams");
        assertTrue(streams.path("build").asText().equals("."), "docker-compose.yml builds the streams service from ./Dockerfile");
        String dockerfile = String.join("\n", instructions(TOP.resolve("Dockerfile")));
        for (JsonNode volume : streams.path("volumes")) {
            String target = volume.asText().split(":")[1];
            // a named volume mounted where the image has no folder is created owned by root
            assertTrue(Pattern.compile("mkdir -p [^&]*" + Pattern.quote(target)).matcher(dockerfile).find(),
                    "Dockerfile does not create " + target + " (a volume of the streams service)");
            assertTrue(Pattern.compile("chown -R sgdscope [^&]*" + Pattern.quote(target.substring(0, target.lastIndexOf('/'))))
                    .matcher(dockerfile).find(), "Dockerfile does not give " + target + " to the user sgdscope");
        }
    }

    /** The instructions of a Dockerfile, continuation lines joined, comments dropped. */
    private static List<String> instructions(Path dockerfile) throws Exception {
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            if (line.strip().startsWith("#")) {
                continue;
            }
            boolean continues = line.endsWith("\\");
            current.append(continues ? line.substring(0, line.length() - 1) : line).append(' ');
            if (!continues) {
                instructions.add(current.toString().strip());
                current.setLength(0);
            }
        }
        return instructions;
    }

    /** The sources of the COPY lines from the build context (not --from another stage), without "./". */
    private static Set<String> copiedSources(List<String> lines) {
        Set<String> sources = new LinkedHashSet<>();
        for (String line : lines) {
            List<String> words = new ArrayList<>(List.of(line.split("\\s+")));
            if (!words.get(0).equalsIgnoreCase("COPY") || line.contains("--from=")) {
                continue;
            }
            words.removeIf(word -> word.startsWith("--"));
            for (String source : words.subList(1, words.size() - 1)) {
                sources.add(source.replaceFirst("^\\./", "").replaceFirst("/$", ""));
            }
        }
        return sources;
    }

    /** Whether a path (a trailing "/" for a whole folder) is within what the COPY lines copy. */
    private static boolean covers(Set<String> copied, String path) {
        String wanted = path.replaceFirst("/$", "");
        for (String source : copied) {
            if (source.equals(".") || source.equals(wanted) || wanted.startsWith(source + "/")) {
                return true;
            }
        }
        return false;
    }

    private record Module(String artifactId, Set<String> dependencies, boolean dependsOnATestJar) {}

    /** The root POM's modules by folder, with their io.sgdscope dependencies (artifact ids, every scope). */
    private static Map<String, Module> rootModules() throws Exception {
        Map<String, Module> modules = new HashMap<>();
        for (String folder : childTexts(pom(TOP.resolve("pom.xml")), "modules", "module")) {
            Element project = pom(TOP.resolve(folder).resolve("pom.xml"));
            Set<String> dependencies = new LinkedHashSet<>();
            boolean testJar = false;
            for (Element dependency : children(child(project, "dependencies"), "dependency")) {
                if ("io.sgdscope".equals(text(dependency, "groupId"))) {
                    dependencies.add(text(dependency, "artifactId"));
                    testJar |= "test-jar".equals(text(dependency, "type")) || "tests".equals(text(dependency, "classifier"));
                }
            }
            modules.put(folder, new Module(text(project, "artifactId"), dependencies, testJar));
        }
        return modules;
    }

    /** The module and the modules it depends on, transitively, by folder. */
    private static Set<String> needed(String module, Map<String, Module> modules) {
        Map<String, String> folderOf = new HashMap<>();
        modules.forEach((folder, m) -> folderOf.put(m.artifactId(), folder));
        Set<String> needed = new LinkedHashSet<>();
        Deque<String> pending = new ArrayDeque<>(List.of(module));
        while (!pending.isEmpty()) {
            String folder = pending.pop();
            if (needed.add(folder)) {
                for (String artifactId : modules.get(folder).dependencies()) {
                    String dependency = folderOf.get(artifactId);
                    assertTrue(dependency != null, folder + " depends on " + artifactId + ", not a module of the root pom.xml");
                    pending.push(dependency);
                }
            }
        }
        return needed;
    }

    private static Element pom(Path file) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(file.toFile()).getDocumentElement();
    }

    private static List<String> childTexts(Element element, String container, String name) {
        return children(child(element, container), name).stream().map(e -> e.getTextContent().strip()).toList();
    }

    private static Element child(Element element, String name) {
        if (element == null) {
            return null;
        }
        List<Element> found = children(element, name);
        return found.isEmpty() ? null : found.get(0);
    }

    private static List<Element> children(Element element, String name) {
        List<Element> children = new ArrayList<>();
        if (element != null) {
            NodeList nodes = element.getChildNodes();
            for (int i = 0; i < nodes.getLength(); i++) {
                if (nodes.item(i).getNodeType() == Node.ELEMENT_NODE && nodes.item(i).getNodeName().equals(name)) {
                    children.add((Element) nodes.item(i));
                }
            }
        }
        return children;
    }

    private static String text(Element element, String name) {
        Element child = child(element, name);
        return child == null ? null : child.getTextContent().strip();
    }
}
