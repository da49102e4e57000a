"""The generic tree walker of lang/syntax.py: children read from the node classes' field lists."""

from __future__ import annotations

from etamil_server.lang import syntax as ast
from etamil_server.lang.lexer import tokenize
from etamil_server.lang.parser import parse


def statements(source: str) -> list:
    return parse(tokenize(source))


def names(nodes) -> list[str]:
    """The variable names and called names among ``nodes``, in the order met."""
    return [node.name for node in nodes if isinstance(node, ast.Var | ast.Call)]


def test_children_come_in_source_order_from_every_kind_of_field():
    (statement,) = statements('x = f(a, [b, c], {"k": d}) + e[g].h;')
    binary = statement.value
    assert [type(child).__name__ for child in ast.iter_child_nodes(binary)] == ["Call", "Field"]
    call = binary.left
    kinds = [type(child).__name__ for child in ast.iter_child_nodes(call)]
    assert kinds == ["Var", "ArrayLit", "RecordLit"]
    record = call.args[2]
    assert names(ast.iter_child_nodes(record)) == ["d"]  # the value of a (key, value) entry


def test_walk_is_depth_first_parent_before_children_left_before_right():
    (statement,) = statements("x = f(a, g(b, c)) - (d * e);")
    assert names(ast.walk(statement.value)) == ["f", "a", "g", "b", "c", "d", "e"]
    assert list(ast.walk(None)) == []


def test_expressions_of_a_statement_leave_out_nested_blocks_and_places():
    (loop,) = statements("(a < b) cuRRu { accu c; }")
    assert names(node for expr in ast.expressions(loop) for node in ast.walk(expr)) == ["a", "b"]
    (read,) = statements("uLLitu x;")
    assert list(ast.expressions(read)) == []  # the variable input stores into is not evaluated
    assert names(ast.iter_child_nodes(read)) == ["x"]  # but it is a child node


def test_blocks_and_statements_of_one_scope():
    program = statements(
        "(a) eZil { x = 1; } iZREl { ceyal f() { y = 2; } }\n"
        "(b) cuRRu { z = 3; }"
    )
    first, second = program
    assert [len(block) for block in ast.blocks(first)] == [1, 1]
    one_scope = [type(s).__name__ for s in ast.statements_in(program)]
    assert one_scope == ["If", "Assign", "FunctionDef", "While", "Assign"]  # not into the function
    everywhere = ast.statements_in(program, (*ast.BLOCK_STATEMENTS, ast.FunctionDef))
    assert [s.name for s in everywhere if isinstance(s, ast.Assign)] == ["x", "y", "z"]


def test_assigned_names_cover_every_kind_of_write():
    program = statements(
        'a = 1; b[0] = 2; c.k = 3; ovvoru d il [1] { } uLLitu e; uLLitu f[0];'
    )
    assert ast.assigned_in(program) == {"a", "b", "c", "d", "e"}


def test_every_node_under_a_program_is_visited_once():
    program = statements(
        "ceyal f(p) { (p > 1) eZil { qirumpu f(p - 1); } qirumpu p; }\n"
        "accu f(x) & y;"
    )
    visited = list(ast.nodes_in(program))
    assert len(visited) == len({id(node) for node in visited})
    assert names(visited) == ["p", "f", "p", "p", "f", "x", "y"]  # the definition is no Var or Call
