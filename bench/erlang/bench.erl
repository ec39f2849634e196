%% The Erlang VM side of `./forge bench runtime`.
%%
%% Runs one workload per VM, the same workloads as bench/runtime/*.c (the Hearth
%% side), and prints the same machine-readable lines that bench/run-runtime.sh
%% parses:
%%
%%     result workload=<name> value=<number> unit=<unit>
%%
%% plus free-form `info ...` lines. Usage (the driver compiles this module into
%% build/opt/erlang/ at run time):
%%
%%     erl +S 2 +P 2000000 -noshell -pa build/opt/erlang -run bench main ring 1000 10000000
%%
%% Workloads and their arguments:
%%     spawn N            N processes that wait for a message: spawn time, bytes
%%                        per idle process, then teardown time
%%     ring N HOPS        a token passed HOPS times around a ring of N processes
%%     pingpong ROUNDS    round trips between two processes
%%     skynet SIZE DIV    the skynet tree: SIZE leaves, DIV children per node
%%     fanout N           one process sends one small message to each of N others
%%     fanout_shared N BYTES   the same, each message holding one shared binary
%%
%% Every workload runs in a fresh process spawned from main/1 (not in init, which
%% -run calls us from), and the VM halts when it is done so its shutdown is not
%% part of any run.
-module(bench).
-export([main/1]).

main([Workload | Args]) ->
    Ints = [list_to_integer(A) || A <- Args],
    {Pid, Ref} = spawn_monitor(fun() -> run(list_to_atom(Workload), Ints) end),
    receive
        {'DOWN', Ref, process, Pid, normal} ->
            halt(0);
        {'DOWN', Ref, process, Pid, Reason} ->
            io:format(standard_error, "bench: ~s failed: ~p~n", [Workload, Reason]),
            halt(1)
    end;
main([]) ->
    io:format(standard_error, "usage: bench main WORKLOAD [ARGS...]~n", []),
    halt(2).

%% ---- helpers ----------------------------------------------------------------

now_ns() ->
    erlang:monotonic_time(nanosecond).

secs(T0, T1) ->
    (T1 - T0) / 1.0e9.

result(Workload, Value, Unit) ->
    io:format("result workload=~s value=~s unit=~s~n", [Workload, num(Value), Unit]).

info(Fmt, Args) ->
    io:format("info " ++ Fmt ++ "~n", Args).

num(V) when is_integer(V) -> integer_to_list(V);
num(V) -> float_to_list(float(V), [{decimals, 6}, compact]).

%% Resident set size in bytes, from /proc/self/statm (pages of 4 KiB on x86-64
%% and on Debian's aarch64 kernels).
rss() ->
    {ok, Bin} = file:read_file("/proc/self/statm"),
    [_Size, Resident | _] = string:lexemes(binary_to_list(Bin), " \n"),
    list_to_integer(Resident) * 4096.

proc_memory() ->
    {memory, M} = process_info(self(), memory),
    M.

%% Waits until the VM has at most Count processes (the ones that were there before
%% a workload spawned its own). Polls, as the Hearth side polls
%% hearth_process_count(): monitoring a million processes would itself cost.
wait_process_count(Count) ->
    case erlang:system_info(process_count) =< Count of
        true -> ok;
        false -> timer:sleep(1), wait_process_count(Count)
    end.

%% ---- spawn: a million idle processes ------------------------------------------

run(spawn, [N]) ->
    erlang:garbage_collect(),
    Count0 = erlang:system_info(process_count),
    Mem0 = erlang:memory(processes),
    Self0 = proc_memory(),
    Rss0 = rss(),
    T0 = now_ns(),
    Pids = spawn_idle(N, []),
    T1 = now_ns(),
    %% Our own heap grew by the list of pids: that is bookkeeping, not process
    %% cost, so it is taken out of both measures.
    SelfGrowth = proc_memory() - Self0,
    Mem1 = erlang:memory(processes),
    Rss1 = rss(),
    T2 = now_ns(),
    lists:foreach(fun(P) -> P ! stop end, Pids),
    wait_process_count(Count0),
    T3 = now_ns(),
    result(spawn, secs(T0, T1), "s"),
    result(idle_process, (Mem1 - Mem0 - SelfGrowth) / N, "bytes"),
    result(idle_process_rss, (Rss1 - Rss0 - SelfGrowth) / N, "bytes"),
    result(teardown, secs(T2, T3), "s"),
    info("spawn n=~b self_growth=~b", [N, SelfGrowth]);

%% ---- ring: a token around a ring of processes ------------------------------

run(ring, [N, Hops]) ->
    Main = self(),
    Pids = [spawn(fun() -> ring_start(Main) end) || _ <- lists:seq(1, N)],
    Nexts = tl(Pids) ++ [hd(Pids)],
    lists:foreach(fun({P, Next}) -> P ! {next, Next} end, lists:zip(Pids, Nexts)),
    T0 = now_ns(),
    hd(Pids) ! Hops,
    receive ring_done -> ok end,
    T1 = now_ns(),
    lists:foreach(fun(P) -> exit(P, kill) end, Pids),
    result(ring, Hops / secs(T0, T1), "hops/s");

%% ---- ping-pong: round trips between two processes --------------------------

run(pingpong, [Rounds]) ->
    Main = self(),
    Pong = spawn(fun pong/0),
    Ping = spawn(fun() -> receive {go, R} -> Pong ! {ping, self()}, ping(Pong, Main, R) end end),
    T0 = now_ns(),
    Ping ! {go, Rounds},
    receive pingpong_done -> ok end,
    T1 = now_ns(),
    Pong ! stop,
    result(pingpong, Rounds / secs(T0, T1), "rt/s");

%% ---- skynet: a tree of processes summing their numbers -------------------------

run(skynet, [Size, Div]) ->
    Main = self(),
    T0 = now_ns(),
    spawn(fun() -> skynet(Main, 0, Size, Div) end),
    Sum = receive S when is_integer(S) -> S end,
    T1 = now_ns(),
    Sum = Size * (Size - 1) div 2,
    result(skynet, secs(T0, T1), "s"),
    info("skynet sum=~b", [Sum]);

%% ---- fan-out: one sender, N receivers ------------------------------------------

run(fanout, [N]) ->
    fanout(fanout, N, fun(I) -> {ev, I} end);
run(fanout_shared, [N, Bytes]) ->
    %% A binary over 64 bytes lives off-heap and is sent by reference: the Erlang
    %% VM's counterpart of hearth_send_shared.
    Bin = binary:copy(<<"x">>, Bytes),
    fanout(fanout_shared, N, fun(_) -> {ev, Bin} end).

fanout(Name, N, Make) ->
    Main = self(),
    Ctr = atomics:new(1, []),
    Count0 = erlang:system_info(process_count),
    Pids = [spawn(fun() -> fan_receiver(Ctr, N, Main) end) || _ <- lists:seq(1, N)],
    %% The pids are copied into the sender when it is spawned, outside the timing.
    Sender = spawn(fun() -> receive go -> ok end, fan_send(Main, Pids, Make) end),
    %% Let every receiver reach its receive first, so the timing holds deliveries
    %% only.
    timer:sleep(200),
    Sender ! go,
    T0 = receive {fan_start, T} -> T end,
    T1 = receive {fan_done, T2} -> T2 end,
    lists:foreach(fun(P) -> P ! stop end, Pids),
    wait_process_count(Count0),
    result(Name, N / secs(T0, T1), "deliveries/s").

fan_send(Main, Pids, Make) ->
    T0 = now_ns(),
    fan_send_all(Pids, Make, 0),
    Main ! {fan_start, T0}.

fan_send_all([], _Make, _I) -> ok;
fan_send_all([P | Ps], Make, I) -> P ! Make(I), fan_send_all(Ps, Make, I + 1).

fan_receiver(Ctr, N, Main) ->
    receive
        {ev, _} ->
            %% The last receiver to handle its message stamps the end time.
            case atomics:add_get(Ctr, 1, 1) of
                N -> Main ! {fan_done, now_ns()};
                _ -> ok
            end,
            fan_receiver(Ctr, N, Main);
        stop ->
            ok
    end.

%% ---- process bodies --------------------------------------------------------------

spawn_idle(0, Acc) -> Acc;
spawn_idle(N, Acc) -> spawn_idle(N - 1, [spawn(fun idle/0) | Acc]).

idle() ->
    receive _ -> ok end.

ring_start(Main) ->
    receive {next, Next} -> ring_loop(Next, Main) end.

ring_loop(Next, Main) ->
    receive
        0 -> Main ! ring_done, ring_loop(Next, Main);
        H -> Next ! H - 1, ring_loop(Next, Main)
    end.

ping(Pong, Main, R) ->
    receive
        pong when R =:= 1 -> Main ! pingpong_done;
        pong -> Pong ! {ping, self()}, ping(Pong, Main, R - 1)
    end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

skynet(Parent, Num, 1, _Div) ->
    Parent ! Num;
skynet(Parent, Num, Size, Div) ->
    Self = self(),
    Sub = Size div Div,
    skynet_spawn(Self, Num, Sub, Div, 0),
    Parent ! skynet_collect(Div, 0).

skynet_spawn(_Self, _Num, _Sub, Div, Div) -> ok;
skynet_spawn(Self, Num, Sub, Div, I) ->
    spawn(fun() -> skynet(Self, Num + I * Sub, Sub, Div) end),
    skynet_spawn(Self, Num, Sub, Div, I + 1).

skynet_collect(0, Sum) -> Sum;
skynet_collect(K, Sum) -> receive S -> skynet_collect(K - 1, Sum + S) end.
