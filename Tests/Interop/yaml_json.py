"""Reads a YAML file with PyYAML and prints it as JSON (anchors and `<<` merge keys resolved).

With --compose-defaults, every `${NAME:-default}` / `${NAME-default}` in a string becomes its
default and `${NAME}` / `$NAME` the empty string, `$$` a `$`: the file as Docker Compose reads it
when none of those variables is set. Exits 1 with the parser's error on YAML it rejects."""
import json
import re
import sys

import yaml

INTERPOLATION = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def interpolate(text):
    def replace(match):
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            raise ValueError(f"{name} is required: {argument}")
        return ""

    return INTERPOLATION.sub(replace, text)


def walk(value, transform):
    if isinstance(value, dict):
        return {key: walk(item, transform) for key, item in value.items()}
    if isinstance(value, list):
        return [walk(item, transform) for item in value]
    if isinstance(value, str):
        return transform(value)
    return value


def main(arguments):
    defaults = "--compose-defaults" in arguments
    paths = [argument for argument in arguments if not argument.startswith("--")]
    if len(paths) != 1:
        sys.exit("usage: yaml_json.py [--compose-defaults] FILE")
    try:
        with open(paths[0], encoding="utf-8") as file:
            document = yaml.safe_load(file)
        if defaults:
            document = walk(document, interpolate)
    except (yaml.YAMLError, ValueError) as error:
        sys.exit(f"{paths[0]}: {error}")
    print(json.dumps(document, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
