from collections import defaultdict
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.weights import (
    CLOSE_COLLABORATOR_THRESHOLD,
    MAX_AUTHORS_FOR_PAIRS,
    adds_pairs,
    close_collaborators,
    is_close,
    newman_pair_weight,
    pair_weight,
)


@pytest.mark.parametrize(
    ("authors", "weight"),
    [(0, 0.0), (1, 0.0), (2, 1.0), (3, 0.5), (5, 0.25), (101, 0.01), (201, 0.005)],
)
def test_newman_pair_weight_is_one_over_n_minus_one(authors, weight):
    assert newman_pair_weight(authors) == pytest.approx(weight)


@pytest.mark.parametrize(
    ("authors", "adds"),
    [(0, False), (1, False), (2, True), (100, True), (101, False), (200, False), (3000, False)],
)
def test_only_works_with_two_to_a_hundred_person_authors_add_pairs(authors, adds):
    assert MAX_AUTHORS_FOR_PAIRS == 100
    assert adds_pairs(authors) is adds


def test_pair_weight_ignores_works_over_the_author_cap():
    assert pair_weight([2, 3, 197]) == pytest.approx(1.5)
    assert pair_weight([3000]) == 0.0


@given(st.integers(min_value=5, max_value=100_000))
def test_a_single_work_of_five_or_more_authors_never_makes_a_close_collaborator(authors):
    assert not is_close(pair_weight([authors]))


def test_a_single_small_team_paper_makes_a_close_collaborator():
    assert [is_close(pair_weight([n])) for n in (2, 3, 4)] == [True, True, True]


@given(st.lists(st.integers(min_value=MAX_AUTHORS_FOR_PAIRS + 1, max_value=10_000), max_size=50))
def test_mega_papers_add_nothing_to_a_pair(author_counts):
    assert pair_weight(author_counts) == 0.0


def test_a_pair_exactly_at_the_threshold_is_close_despite_float_rounding():
    # 1/5 + 1/10 + 1/50 == 0.32 on paper; in floats it may land a hair below.
    assert is_close(pair_weight([6, 11, 51]))
    assert not is_close(pair_weight([6, 11, 101]))


def test_close_collaborators_are_above_the_threshold_strongest_first():
    weights = {"b": 0.5, "a": 0.9, "c": 0.31, "d": CLOSE_COLLABORATOR_THRESHOLD, "e": 0.5}
    assert close_collaborators(weights) == ["a", "b", "e", "d"]
    assert close_collaborators({}) == []


@given(st.dictionaries(st.text(max_size=3), st.floats(min_value=0, max_value=10)))
def test_close_collaborators_is_sorted_and_complete(weights):
    close = close_collaborators(weights)
    assert set(close) == {k for k, w in weights.items() if is_close(w)}
    assert [weights[k] for k in close] == sorted((weights[k] for k in close), reverse=True)


# The seed researcher's nine works (reference/seed-works.md). DeepSeek-R1's 197 distinct people
# are stood in for by placeholders apart from the mHC authors it shares; it is excluded anyway.
SEED = "Zhengyan Zhang"


def names(text):
    return text.split(", ")


MHC = names(
    "Zhenda Xie, Yixuan Wei, Huanqi Cao, Chenggang Zhao, Chengqi Deng, Jiashi Li, Damai Dai, "
    "Huazuo Gao, Jiang Chang, Liang Zhao, Shangyan Zhou, Zhean Xu, Zhengyan Zhang, Wangding Zeng, "
    "Shengding Hu, Yuqing Wang, Jingyang Yuan, Lean Wang, Wenfeng Liang"
)
DEEPSEEK_R1 = [*MHC, *(f"DeepSeek-R1 author {i}" for i in range(197 - len(MHC)))]
ROADMAP_V3 = names(
    "Sha Yuan, Hanyu Zhao, Shuai Zhao, Jiahong Leng, Yangxiao Liang, Xiaozhi Wang, Jifan Yu, "
    "Xin Lv, Zhou Shao, Jiaao He, Yankai Lin, Xu Han, Zhenghao Liu, Ning Ding, Yongming Rao, "
    "Yizhao Gao, Liang Zhang, Ming Ding, Cong Fang, Yisen Wang, Mingsheng Long, Jing Zhang, "
    "Yinpeng Dong, Tianyu Pang, Peng Cui, Lingxiao Huang, Zheng Liang, Huawei Shen, Hui Zhang, "
    "Quanshi Zhang, Qingxiu Dong, Zhixing Tan, Mingxuan Wang, Shuo Wang, Long Zhou, Haoran Li, "
    "Junwei Bao, Yingwei Pan, Weinan Zhang, Zhou Yu, Rui Yan, Chence Shi, Minghao Xu, "
    "Zuobai Zhang, Guoqiang Wang, Xiang Pan, Mengjie Li, Xiaoyu Chu, Zijun Yao, Fangwei Zhu, "
    "Shulin Cao, Weicheng Xue, Zixuan Ma, Zhengyan Zhang, Shengding Hu, Yujia Qin, Chaojun Xiao, "
    "Zheni Zeng, Ganqu Cui, Weize Chen, Weilin Zhao, Yuan Yao, Peng Li, Wenzhao Zheng, "
    "Wenliang Zhao, Ziyi Wang, Borui Zhang, Nanyi Fei, Anwen Hu, Zenan Ling, Haoyang Li, "
    "Boxi Cao, Xianpei Han, Weidong Zhan, Baobao Chang, Hao Sun, Jiawen Deng, Chujie Zheng, "
    "Juanzi Li, Lei Hou, Xigang Cao, Jidong Zhai, Zhiyuan Liu, Maosong Sun, Jiwen Lu, Zhiwu Lu, "
    "Qin Jin, Ruihua Song, Ji-Rong Wen, Zhouchen Lin, Liwei Wang, Hang Su, Jun Zhu, Zhifang Sui, "
    "Jiajun Zhang, Yang Liu, Xiaodong He, Minlie Huang, Jian Tang, Jie Tang"
)
SEED_WORKS = [
    DEEPSEEK_R1,
    MHC,
    ROADMAP_V3,
    names(
        "Zhen Li, Xiting Wang, Weikai Yang, Jing Wu, Zhengyan Zhang, Zhiyuan Liu, Maosong Sun, "
        "Hui Zhang, Shixia Liu"
    ),
    names("Yuan Yao, Ao Zhang, Zhengyan Zhang, Zhiyuan Liu, Tat-Seng Chua, Maosong Sun"),
    names(
        "Xiuxing Li, Zhenyu Li, Zhengyan Zhang, Ning Liu, Haitao Yuan, Wei Zhang, Zhiyuan Liu, "
        "Jianyong Wang"
    ),
    names(
        "Yujia Qin, Yankai Lin, Jing Yi, Jiajie Zhang, Xu Han, Zhengyan Zhang, Yusheng Su, "
        "Zhiyuan Liu, Peng Li, Maosong Sun, Jie Zhou"
    ),
    names("Zhengyan Zhang, Yankai Lin, Zhiyuan Liu, Peng Li, Maosong Sun, Jie Zhou"),
    names(
        "Yuan Yao, Bowen Dong, Ao Zhang, Zhengyan Zhang, Ruobing Xie, Zhiyuan Liu, Leyu Lin, "
        "Maosong Sun, Jianyong Wang"
    ),
]


def seed_coauthor_weights():
    weights = defaultdict(float)
    for authors in SEED_WORKS:
        people = set(authors)
        if not adds_pairs(len(people)):
            continue
        for a, b in combinations(sorted(people), 2):
            if SEED in (a, b):
                weights[b if a == SEED else a] += newman_pair_weight(len(people))
    return dict(weights)


def test_seed_author_lists_have_the_documented_sizes():
    assert [len(set(authors)) for authors in SEED_WORKS] == [197, 19, 100, 9, 6, 8, 11, 6, 9]


def test_seed_researcher_has_the_four_close_collaborators_of_the_calibration():
    weights = seed_coauthor_weights()
    assert close_collaborators(weights) == ["Zhiyuan Liu", "Maosong Sun", "Yuan Yao", "Ao Zhang"]
    assert {name: round(weights[name], 3) for name in weights if weights[name] >= 0.25} == {
        "Zhiyuan Liu": 0.903,
        "Maosong Sun": 0.760,
        "Yuan Yao": 0.335,
        "Ao Zhang": 0.325,
        "Yankai Lin": 0.310,
        "Peng Li": 0.310,
        "Jie Zhou": 0.300,
        "Jianyong Wang": 0.268,
    }


def test_seed_deepseek_r1_adds_no_pairs():
    weights = seed_coauthor_weights()
    assert "DeepSeek-R1 author 0" not in weights
    # Zhenda Xie shares mHC (19 authors) and DeepSeek-R1; only mHC counts.
    assert weights["Zhenda Xie"] == pytest.approx(1 / 18)
