# The sgdscope command in a container: `docker build -t sgdscope .`
# Build stage: the Maven wrapper builds the one runnable jar (tests run in CI, not here).
FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
COPY schemas schemas
COPY embedded-kafka embedded-kafka
COPY trainer trainer
COPY streams streams
COPY cli cli
COPY dashboards/pom.xml dashboards/pom.xml
RUN ./mvnw -B -q -Dmaven.test.skip=true -pl cli -am package

# Run stage: a JRE and the jar. ND4J unpacks its native libraries into ~/.javacpp/cache on first start.
FROM eclipse-temurin:17-jre
RUN useradd --create-home --uid 10001 sgdscope
USER sgdscope
COPY --from=build /src/cli/target/sgdscope.jar /opt/sgdscope/sgdscope.jar
EXPOSE 9400
ENTRYPOINT ["java", "-jar", "/opt/sgdscope/sgdscope.jar"]
CMD ["--help"]
