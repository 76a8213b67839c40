# The sgdscope command in a container: `docker build -t sgdscope .`
# Build stage: the Maven wrapper builds the one runnable jar (tests run in CI, not here).
# Every module cli needs, whole; of the others only the POM (Maven reads every module of the root POM).
# DockerfileTest checks these lines against the POMs. -DskipTests, not -Dmaven.test.skip: the latter would
# also skip embedded-kafka's test jar, which cli's (test) dependencies name, and the build would fail.
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY schemas schemas
COPY embedded-kafka embedded-kafka
COPY client client
COPY trainer trainer
COPY streams streams
COPY analysis analysis
COPY cli cli
COPY dl4j/pom.xml dl4j/pom.xml
COPY dashboards/pom.xml dashboards/pom.xml
COPY clients/python/pom.xml clients/python/pom.xml
RUN ./mvnw -B -q -DskipTests -pl cli -am package

# Run stage: a JRE and the jar. ND4J unpacks its native libraries into ~/.javacpp/cache on first start.
FROM eclipse-temurin:17-jre
# The streams apps' state folder (a volume in docker-compose.yml) must exist, owned by the user: a volume
# mounted where the image has no folder is created owned by root, and the apps could not write there.
RUN useradd --create-home --uid 10001 sgdscope \
    && mkdir -p /var/lib/sgdscope/streams && chown -R sgdscope /var/lib/sgdscope
USER sgdscope
COPY --from=build /src/cli/target/sgdscope.jar /opt/sgdscope/sgdscope.jar
EXPOSE 9400
ENTRYPOINT ["java", "-jar", "/opt/sgdscope/sgdscope.jar"]
CMD ["--help"]
