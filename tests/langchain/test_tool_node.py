"""The same middleware as `wrap_tool_call` / `awrap_tool_call` on a LangGraph ToolNode in a small graph."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition

from spinegate_langchain import SpineMiddleware


def build_graph(model: Any, tools: list[Any], mw: SpineMiddleware) -> Any:
    """agent -> tools -> agent ... a hand-built ReAct loop with a governed ToolNode."""

    def agent(state: MessagesState) -> dict[str, list[AIMessage]]:
        return {"messages": [model.invoke(state["messages"])]}

    async def aagent(state: MessagesState) -> dict[str, list[AIMessage]]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    from langchain_core.runnables import RunnableLambda

    graph = StateGraph(MessagesState)
    graph.add_node("agent", RunnableLambda(agent, afunc=aagent))
    graph.add_node("tools", ToolNode(tools, wrap_tool_call=mw.wrap_tool_call, awrap_tool_call=mw.awrap_tool_call))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


def test_tool_node_sync(gate, tools, calls, log_path, h) -> None:
    model = h.fake_model(h.ai_calls(("add", {"a": 3, "b": 4}, "t1"), ("delete_everything", {"path": "/"}, "t2")))
    graph = build_graph(model, [tools["add"], tools["delete_everything"]], SpineMiddleware(gate))
    out = graph.invoke({"messages": [("user", "go")]})
    msgs = {m.tool_call_id: m for m in out["messages"] if isinstance(m, ToolMessage)}
    assert msgs["t1"].content == "7"
    assert msgs["t2"].status == "error" and "DESTRUCTIVE_OPERATION_BLOCKED" in msgs["t2"].content
    assert out["messages"][-1].content == "all done"
    assert calls == {"add": 1}
    rows = h.check_log(log_path)
    assert sorted(d["proposal_id"] for d in h.decisions(rows)) == ["t1", "t2"]
    assert [o["proposal_id"] for o in h.outcomes(rows)] == ["t1"]


async def test_tool_node_async(gate, tools, calls, log_path, h) -> None:
    model = h.fake_model(h.ai_calls(("lookup", {"key": "z"}, "t3"), ("delete_everything", {"path": "/"}, "t4")))
    graph = build_graph(model, [tools["lookup"], tools["delete_everything"]], SpineMiddleware(gate))
    out = await graph.ainvoke({"messages": [("user", "go")]})
    msgs = {m.tool_call_id: m for m in out["messages"] if isinstance(m, ToolMessage)}
    assert msgs["t3"].content == "value of z"
    assert msgs["t4"].status == "error"
    assert calls == {"lookup": 1}
    rows = h.check_log(log_path)
    assert len(h.decisions(rows)) == 2 and len(h.outcomes(rows)) == 1
